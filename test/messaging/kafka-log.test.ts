import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logLevel, type LogEntry } from 'kafkajs';
import { kafkaLogCreator } from '../../src/messaging/kafka/kafka-log';

function entry(namespace: string, level: logLevel, message: string, extra: Record<string, unknown> = {}): LogEntry {
  return { namespace, level, label: logLevel[level], log: { timestamp: new Date().toISOString(), message, ...extra } };
}

function capture() {
  const lines: Array<{ level: 'warn' | 'error'; entry: any }> = [];
  const log = kafkaLogCreator({
    warn: (e: unknown) => lines.push({ level: 'warn', entry: e }),
    error: (e: unknown) => lines.push({ level: 'error', entry: e }),
  })(logLevel.WARN);
  return { lines, log };
}

describe('kafkajs logs through our logger', () => {
  it('maps levels, keeps kafkajs fields as fields, and prints a repeated complaint once per window', () => {
    const { lines, log } = capture();
    log(entry('Connection', logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092' }));
    for (let i = 0; i < 20; i++) log(entry('Connection', logLevel.ERROR, `Connection error: connect ECONNREFUSED 127.0.0.1:${9000 + i}`));
    log(entry('Runner', logLevel.WARN, 'The group is rebalancing, re-joining', { groupId: 'g' }));
    assert.deepEqual(
      lines.map((l) => [l.level, l.entry.msg]),
      [
        ['error', 'Connection: Connection error: connect ECONNREFUSED 127.0.0.1:9092'],
        ['warn', 'Runner: The group is rebalancing, re-joining'],
      ],
    );
    assert.equal(lines[0].entry.broker, '127.0.0.1:9092');
    assert.equal(lines[1].entry.groupId, 'g');
  });

  it('drops raw broker error answers, which the layer above retries or reports', () => {
    const { lines, log } = capture();
    log(entry('Connection', logLevel.ERROR, 'Response Heartbeat(key: 12, version: 3)', { error: 'The group is rebalancing' }));
    assert.deepEqual(lines, []);
  });
});
