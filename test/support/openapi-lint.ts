import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root (this file runs from dist/test/support/). */
const ROOT = join(__dirname, '..', '..', '..');

export interface LintRun {
  linter: 'spectral' | 'redocly';
  exitCode: number;
  output: string;
}

/** The served OpenAPI document, as clients read it. */
export async function fetchOpenApi(baseUrl: string): Promise<any> {
  const res = await fetch(`${baseUrl}/docs-json`);
  if (res.status !== 200) throw new Error(`GET /docs-json answered ${res.status}`);
  return res.json();
}

/**
 * Writes `document` out and lints it with Spectral (`spectral:oas`, .spectral.yaml) and Redocly
 * (`recommended`, redocly.yaml), each failing (exit code not 0) on any error.
 */
export async function lintOpenApi(document: unknown): Promise<LintRun[]> {
  const dir = await mkdtemp(join(tmpdir(), 'ioasid-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(document, null, 2));
    return [
      { linter: 'spectral', ...(await run('spectral', ['lint', '--ruleset', join(ROOT, '.spectral.yaml'), '--fail-severity', 'error', file])) },
      { linter: 'redocly', ...(await run('redocly', ['lint', '--config', join(ROOT, 'redocly.yaml'), file])) },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(bin: string, args: string[]): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', bin), args, { cwd: ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? 1, output }));
  });
}
