import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../src/model/canonical-json';
import { envelopeHash, type EventEnvelope } from '../../src/model/envelope';
import { hasValidHash, lineProvesItsHash } from '../../src/replay/envelope-check';
import { HashChainCheck } from '../../src/replay/hash-chain';
import { MemoryLog } from './memory-log';
import { runScenario, ScenarioHost } from './scenario';
import { copyLog } from './tamper';

/** Checks a whole log; the first break, or undefined. */
function firstBreak(log: readonly EventEnvelope[], hostId = 'host-m') {
  const chain = new HashChainCheck(hostId);
  for (const e of log) {
    const broken = chain.check({ envelope: e });
    if (broken) return broken;
    chain.accept(e);
  }
  return undefined;
}

describe('hash chain check', () => {
  let log: EventEnvelope[];

  before(async () => {
    const memory = new MemoryLog();
    await runScenario(new ScenarioHost('host-m', memory));
    log = memory.envelopes;
  });

  it('accepts the log the store wrote', () => {
    assert.ok(log.length > 30);
    assert.equal(firstBreak(log), undefined);
  });

  it('names the edited version when an event content changes', () => {
    const tampered = copyLog(log);
    (tampered[9]!.data as { fdId?: string }).fdId = 'fd-evil';
    assert.deepEqual(firstBreak(tampered), { version: 10, reason: 'the recorded hash does not match the event content' });
  });

  it('names the missing version when an event is deleted', () => {
    const tampered = copyLog(log);
    tampered.splice(11, 1);
    const broken = firstBreak(tampered);
    assert.equal(broken?.version, 12);
    assert.match(broken!.reason, /version 12 is missing/);
  });

  it('names the first of two swapped events', () => {
    const tampered = copyLog(log);
    [tampered[4], tampered[5]] = [tampered[5]!, tampered[4]!];
    assert.equal(firstBreak(tampered)?.version, 5);
  });

  it('names a swap of contents under unchanged version numbers', () => {
    const tampered = copyLog(log);
    const [a, b] = [tampered[6]!, tampered[7]!];
    [a.data, b.data, a.type, b.type] = [b.data, a.data, b.type, a.type];
    assert.equal(firstBreak(tampered)?.version, 7);
  });

  it('names a version that appears twice, and a link to the wrong predecessor', () => {
    const repeated = copyLog(log);
    repeated.splice(3, 0, structuredClone(repeated[2]!));
    assert.match(firstBreak(repeated)!.reason, /version 3 appears again/);
    const relinked = copyLog(log);
    relinked[20]!.prevHash = relinked[18]!.hash;
    assert.deepEqual(firstBreak(relinked), { version: 21, reason: 'prevHash does not match the hash of version 20' });
  });

  it("refuses another host's events", () => {
    assert.match(firstBreak(log, 'host-other')!.reason, /belongs to host "host-m"/);
  });

  it('proves the hash of a canonical line without parsing it, and of any envelope by recomputing', () => {
    for (const e of log) {
      const canonical = Buffer.from(`  ${canonicalJson(e)}\n`);
      assert.ok(lineProvesItsHash(canonical, 2, canonical.length - 1), 'canonical line');
      const reordered = Buffer.from(JSON.stringify(e));
      assert.equal(lineProvesItsHash(reordered, 0, reordered.length), false, 'another key order proves nothing');
      assert.ok(hasValidHash(JSON.parse(reordered.toString()) as EventEnvelope), 'but the recomputed hash holds');
    }
  });

  it('recomputes the hash of any envelope as its definition says (SHA-256 of prevHash and the canonical rest), the usual shape and any other', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const scalar = fc.oneof(text, fc.integer(), fc.double());
    const usual = fc.record(
      {
        eventId: text, hostId: text, version: fc.integer(), type: text, schemaVersion: fc.integer(), occurredAt: text,
        actor: text, commandId: text, correlationId: text, prevHash: text, tenantId: text,
        data: fc.dictionary(text, fc.jsonValue({ maxDepth: 3 })),
      },
      { requiredKeys: ['eventId', 'hostId', 'version', 'type', 'schemaVersion', 'occurredAt', 'actor', 'commandId', 'correlationId', 'prevHash', 'data'] },
    );
    // Shapes the fast path must leave to the general one: a member added, undefined, of another type, no object as data.
    const other = fc.tuple(usual, fc.constantFrom('extra', 'tenantId', 'version', 'data', 'type'), fc.oneof(scalar, fc.constant(undefined), fc.constant(null), fc.array(text)));
    const envelope = fc.oneof(usual, other.map(([e, member, value]) => ({ ...e, [member]: value })));
    fc.assert(
      fc.property(envelope, (e) => {
        // The definition, written out: the fast path of the usual shape must give the same bytes.
        const definition = createHash('sha256').update(String(e.prevHash)).update(canonicalJson(e)).digest('hex');
        assert.equal(envelopeHash(e as unknown as EventEnvelope), definition);
        const hashed = { ...e, hash: definition } as unknown as EventEnvelope;
        assert.equal(hasValidHash(hashed), true);
        assert.equal(hasValidHash({ ...hashed, hash: '0'.repeat(64) }), false);
      }),
      { numRuns: 3000 },
    );
  });

  // Mostly characters that keep the line JSON (digits, hex, letters), so the hash is what refuses it.
  const replacement = fc.constantFrom(...'0123456789abcdefxyzABC _-'.split(''));

  it('never accepts a canonical line with any one character changed (parsed from the changed text)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: log.length - 1 }), fc.nat(), replacement, (i, at, ch) => {
        const text = canonicalJson(log[i]);
        const pos = at % text.length;
        if (text[pos] === ch) return;
        const changed = text.slice(0, pos) + ch + text.slice(pos + 1);
        let parsed: EventEnvelope;
        try {
          parsed = JSON.parse(changed) as EventEnvelope;
        } catch {
          return; // not JSON any more: the file source refuses the line before any hash
        }
        if (typeof parsed !== 'object' || parsed === null) return;
        const why = `changed ${JSON.stringify(text[pos])} to ${JSON.stringify(ch)} at ${pos}`;
        assert.equal(lineProvesItsHash(Buffer.from(changed), 0, Buffer.byteLength(changed)), false, why);
        assert.equal(hasValidHash(parsed), false, why);
      }),
      { numRuns: 2000 },
    );
  });
});
