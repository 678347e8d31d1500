import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../support/deploy-files';

const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: Array<{ name: string }>;
}
interface CruiseResult {
  summary: { violations: Violation[]; totalCruised: number; ruleSetUsed: { forbidden: Array<{ name: string }> } };
}

/** Runs the dependency-cruiser CLI (as `npm run lint:deps` does) on `src` under `cwd`, with the repository's rules. */
function cruise(cwd: string, extraArgs: string[] = []): CruiseResult {
  const run = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'json', ...extraArgs], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.ok(run.stdout.startsWith('{'), `dependency-cruiser gave no JSON (exit ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as CruiseResult;
}

function describeViolation(v: Violation): string {
  return `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`;
}

describe('layers (.dependency-cruiser.cjs)', () => {
  it('src/ breaks no layer rule and has no import cycle', () => {
    const result = cruise(REPO_ROOT, []);
    assert.ok(result.summary.totalCruised > 200, `only ${result.summary.totalCruised} modules cruised: is src/ there?`);
    assert.deepEqual(result.summary.violations.map(describeViolation), []);
  });

  it('every rule catches the import it forbids', () => {
    // A tree that breaks each rule once; the repository's own config judges it.
    const dir = mkdtempSync(join(tmpdir(), 'layers-'));
    try {
      const files: Record<string, string> = {
        'src/model/values.ts': "import { h } from '../hardware/h';\nexport const m = h;\n",
        'src/hardware/h.ts': "import { d } from '../domain/d';\nexport const h = d;\n",
        'src/domain/d.ts': "import { s } from '../store/s';\nexport const d = s;\n",
        'src/composition/c.ts': "import { x } from '../application/x';\nexport const c = x;\n",
        'src/store/s.ts': "import { x } from '../application/x';\nexport const s = x;\n",
        'src/application/x.ts': "import { r } from '../api/rest/r';\nexport const x = r;\n",
        'src/api/rest/r.ts': "import type { G } from '../grpc/g';\nexport const r = 1;\nexport type R = G;\n",
        'src/api/grpc/g.ts': "import type { R } from '../rest/r';\nexport type G = R | 2;\n",
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true } }),
      };
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      const result = cruise(dir);
      const broken = new Set(result.summary.violations.map((v) => v.rule.name));
      const rules = result.summary.ruleSetUsed.forbidden.map((r) => r.name);
      assert.ok(rules.length >= 9, `the config states ${rules.length} rules`);
      assert.deepEqual(rules.filter((name) => !broken.has(name)), [], 'rules that let their forbidden import through');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
