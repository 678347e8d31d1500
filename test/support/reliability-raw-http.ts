import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** Sent byte for byte: may hold what no HTTP client library would send. */
  target: Buffer | string;
  headers: Array<[string, string]>;
  body?: Buffer;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request written straight to a socket (Connection: close), so hostile tests can
 * send invalid bytes, odd framing and any header; the answer is read to the end of the stream.
 * A connection that closes without a status line answers status 0.
 */
export function rawHttp(port: number, req: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
    socket.on('close', () => resolve(parseAnswer(Buffer.concat(chunks))));
    socket.on('connect', () => {
      const head = [
        Buffer.from(`${req.method} `),
        Buffer.isBuffer(req.target) ? req.target : Buffer.from(req.target, 'latin1'),
        Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'),
        ...req.headers.map(([k, v]) => Buffer.from(`${k}: ${v}\r\n`, 'latin1')),
        Buffer.from(req.body ? `Content-Length: ${req.body.length}\r\n\r\n` : '\r\n'),
      ];
      // write, not end: Node's server aborts a request whose client half-closes before the answer.
      socket.write(Buffer.concat(req.body ? [...head, req.body] : head));
    });
  });
}

function parseAnswer(raw: Buffer): RawAnswer {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return { status: 0, headers: {}, body: raw.toString('utf8') };
  const [statusLine, ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = raw.subarray(split + 4);
  const body = headers['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest;
  return { status, headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
