import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { describe, it } from 'node:test';
import { JsonLogger } from '../../src/observability/logger';
import { httpDrain } from '../../src/observability/drain';
import { installGracefulShutdown, isShuttingDown } from '../../src/observability/shutdown';
import { startGatedApp } from '../support/gated-app';
import { httpRequest } from '../support/http-request';

function quietLogger() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: new JsonLogger({ out: { write: (l: string) => lines.push(JSON.parse(l)) } }) };
}

describe('graceful shutdown', () => {
  it('stops accepting, lets the in-flight request finish, then runs the provider hooks, and reports 0', async () => {
    const { logger, lines } = quietLogger();
    const { app, url, gate, hooks } = await startGatedApp(logger);
    const server = app.getHttpServer();
    const exits: number[] = [];
    const shutdown = installGracefulShutdown(app, { logger, drain: [httpDrain(server)], signals: [], exit: (c) => exits.push(c) });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // A kept-alive connection that has already served a request, like a client's pool.
      const warm = await httpRequest(`${url}/quick`, { agent });
      assert.equal(warm.headers.connection, 'keep-alive');
      const inFlight = httpRequest(`${url}/gated`, { agent });
      await gate.reached;

      const done = shutdown('SIGTERM');
      assert.equal(isShuttingDown(), true);
      assert.equal(server.listening, false, 'stops accepting at once');
      await assert.rejects(httpRequest(`${url}/quick`), { code: 'ECONNREFUSED' });
      assert.deepEqual(hooks.calls, [], 'no provider is torn down while a request runs');

      gate.release();
      const answer = await inFlight;
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.connection, 'close', 'the client is told to reconnect elsewhere');

      assert.equal(await done, 0);
      assert.deepEqual(hooks.calls, [
        { hook: 'onModuleDestroy', inFlight: 0 },
        { hook: 'beforeApplicationShutdown', inFlight: 0 },
        { hook: 'onApplicationShutdown', inFlight: 0 },
      ]);
      assert.deepEqual(
        lines.filter((l) => l.context === 'shutdown').map((l) => l.msg),
        ['shutdown started', 'requests drained', 'shutdown complete'],
      );
      assert.equal(await shutdown('SIGTERM'), 0, 'a second signal joins the running shutdown');
      assert.deepEqual(exits, [], 'exit is only called for real signals');
    } finally {
      agent.destroy();
    }
  });

  it('exits on a real signal through the exit callback', async () => {
    const { logger } = quietLogger();
    const { app } = await startGatedApp(logger);
    const signal = 'SIGUSR2';
    const exited = new Promise<number>((resolve) =>
      installGracefulShutdown(app, { logger, drain: [httpDrain(app.getHttpServer())], signals: [signal], exit: resolve }),
    );
    process.kill(process.pid, signal);
    assert.equal(await exited, 0);
    process.removeAllListeners(signal);
  });

  it('drops what is still open at the deadline and reports 1', async () => {
    const { logger, lines } = quietLogger();
    const { app, url, gate, hooks } = await startGatedApp(logger);
    const drain = httpDrain(app.getHttpServer());
    const shutdown = installGracefulShutdown(app, { logger, drain: [drain], signals: [], timeoutMs: 50, exit: () => undefined });
    const stuck = httpRequest(`${url}/gated`);
    await gate.reached;
    assert.equal(await shutdown('SIGTERM'), 1);
    await assert.rejects(stuck, { code: 'ECONNRESET' });
    assert.ok(lines.some((l) => l.level === 'error' && String(l.msg).includes('deadline')));
    assert.deepEqual(hooks.calls, []);
    gate.release();
    await app.close();
  });
});
