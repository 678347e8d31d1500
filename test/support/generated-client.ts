import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';

/** A client @hey-api/openapi-ts generated from a document, compiled and loaded. */
export interface GeneratedClient {
  /** One function per operation, named by its operationId (`setHwid`). */
  sdk: Record<string, (options: object) => Promise<{ data?: unknown; error?: unknown; request: Request; response: Response }>>;
  /** The fetch client's factory: one client per caller (base URL, bearer token). */
  createClient(config: { baseUrl: string; auth?: string }): unknown;
}

/**
 * Generates a TypeScript client (fetch client, SDK, types) from `document` into `dir`,
 * type-checks it strictly with TypeScript (a document whose types do not compile fails
 * here), compiles it and loads it.
 */
export async function generateClient(document: unknown, dir: string): Promise<GeneratedClient> {
  const input = join(dir, 'openapi.json');
  const source = join(dir, 'src');
  const out = join(dir, 'dist');
  await writeFile(input, JSON.stringify(document));
  const { createClient } = await import('@hey-api/openapi-ts');
  await createClient({ input, output: source, plugins: ['@hey-api/client-fetch', '@hey-api/sdk', '@hey-api/typescript'], logs: { level: 'silent' } });
  compile(await tsFilesUnder(source), source, out);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const sdk = require(join(out, 'index.js')) as GeneratedClient['sdk'];
  const client = require(join(out, 'client', 'index.js')) as Pick<GeneratedClient, 'createClient'>;
  return { sdk, createClient: client.createClient };
}

function compile(files: string[], rootDir: string, outDir: string): void {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: [],
    strict: true,
    skipLibCheck: true,
    rootDir,
    outDir,
  });
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => rootDir, getNewLine: () => '\n' };
    throw new Error(`the generated client does not compile:\n${ts.formatDiagnostics(diagnostics, host)}`);
  }
}

async function tsFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}
