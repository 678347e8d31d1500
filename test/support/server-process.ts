import { request } from 'node:http';
import { freePort, startNode, type NodeProcess } from './node-process';
import { httpRequest, type HttpAnswer } from './http-request';

/** The real server (`node dist/src/main.js`) as a child process on free ports. */
export interface ServerProcess extends NodeProcess {
  url: string;
  port: number;
  grpcPort: number;
}

const BOOT_LIMIT_MS = 60_000;
const POLL_MS = 100;

/** `cwd`: the checkout whose build runs (benchmarks compare another release's build with this one). */
export async function startServer(env: Record<string, string>, cwd?: string): Promise<ServerProcess> {
  const port = await freePort();
  const grpcPort = await freePort();
  const proc = startNode('dist/src/main.js', { PORT: String(port), GRPC_PORT: String(grpcPort), ...env }, cwd);
  return { ...proc, url: `http://127.0.0.1:${port}`, port, grpcPort };
}

/**
 * Polls `path` until it answers 200. A bound, not a timed assertion: it only keeps a broken
 * boot from hanging the suite, and says what the process printed.
 */
export async function waitFor200(server: ServerProcess, path: string): Promise<HttpAnswer> {
  let exited = false;
  void server.exited.then(() => (exited = true));
  const deadline = Date.now() + BOOT_LIMIT_MS;
  let last = 'no answer';
  while (Date.now() < deadline && !exited) {
    try {
      const answer = await httpRequest(`${server.url}${path}`, { agent: false });
      if (answer.status === 200) return answer;
      last = `${answer.status} ${answer.body}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(
    `${path} never answered 200 (${exited ? 'process exited' : 'gave up'}; last: ${last})\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`,
  );
}

/** Resolves once a fresh connection to the server's port is refused: its listener is closed. */
export async function waitUntilRefused(server: ServerProcess): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve(false);
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
      req.end();
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
