import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * A REST client holding one bearer token, on node:http with keep-alive connections shared by
 * every client of the run (as an orchestrator's HTTP client would keep them); every non-2xx
 * answer aborts the benchmark.
 */
export class Rest {
  private readonly url: URL;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly agent: Agent,
  ) {
    this.url = new URL(baseUrl);
  }

  call<T = any>(method: string, path: string, body: unknown, latencies?: number[]): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const t0 = performance.now();
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latencies?.push(performance.now() - t0);
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path} -> ${res.statusCode} ${text}`));
            else resolve((text ? JSON.parse(text) : undefined) as T);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
