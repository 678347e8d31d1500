import { readFileSync } from 'node:fs';
import { get } from 'node:http';

/** A process's resident set in MB, from /proc (0 once it holds none: a zombie). */
export function rssMB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : 0;
}

/** nodejs_heap_size_used_bytes of the server behind `url`, from its /metrics, in MB. */
export async function heapUsedMB(url: string): Promise<number> {
  const text = await new Promise<string>((resolve, reject) => {
    get(`${url}/metrics`, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
  const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes'));
  return line ? Number(line.split(' ')[1]) / (1024 * 1024) : NaN;
}
