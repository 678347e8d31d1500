import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config';

/** The repository root, from dist/test/support. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const K8S_DIR = join(REPO_ROOT, 'deploy', 'k8s');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

/** A Kubernetes object as parsed; fields are read loosely, the assertions check them. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

export interface ManifestFile {
  file: string;
  objects: K8sObject[];
}

/** Every YAML document of deploy/k8s, failing on the first YAML error. */
export function loadManifests(dir: string = K8S_DIR): ManifestFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((file) => {
      const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
      if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
      const objects = docs.map((doc, i) => {
        if (doc.errors.length) throw new Error(`${file} document ${i}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return doc.toJS() as K8sObject;
      });
      return { file, objects };
    });
}

export function findObject(files: ManifestFile[], kind: string, name: string): K8sObject {
  const found = files.flatMap((f) => f.objects).find((o) => o?.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return found;
}

export function objectsOfKind(files: ManifestFile[], kind: string): K8sObject[] {
  return files.flatMap((f) => f.objects).filter((o) => o?.kind === kind);
}

/** The environment variable names src/config.ts reads, observed by calling it. */
export function envNamesReadByConfig(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get(_target, key) {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  loadConfig(env);
  return read;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
export interface DockerInstruction {
  keyword: string;
  args: string;
  stage: string;
}

export function parseDockerfile(text: string): DockerInstruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const out: DockerInstruction[] = [];
  let stage = '';
  for (const line of logical) {
    const [keyword, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? args;
    out.push({ keyword: keyword.toUpperCase(), args, stage });
  }
  return out;
}

/** `COPY [--flags] src... dest` */
export function copyArgs(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

/** True when a .dockerignore pattern list keeps `path` (relative, forward slashes) out of the build context. */
export function dockerIgnores(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    if (globMatches(pattern, path)) ignored = !negate;
  }
  return ignored;
}

export function dockerignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** A pattern matches the path itself or any folder above it (Docker excludes a folder's contents with it). */
function globMatches(pattern: string, path: string): boolean {
  const source = pattern
    .split('**')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
    .join('.*');
  const re = new RegExp(`^${source}$`);
  const segments = path.split('/');
  return segments.some((_s, i) => re.test(segments.slice(0, i + 1).join('/')));
}

export function exists(...parts: string[]): boolean {
  return existsSync(repoPath(...parts));
}
