import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import {
  copyArgs,
  dockerignorePatterns,
  dockerIgnores,
  exists,
  parseDockerfile,
  readRepoFile,
  repoPath,
} from '../support/deploy-files';

const instructions = parseDockerfile(readRepoFile('deploy', 'Dockerfile'));
const ignore = dockerignorePatterns(readRepoFile('.dockerignore'));
const defaults = loadConfig({});

function inStage(stage: string, keyword: string) {
  return instructions.filter((i) => i.stage === stage && i.keyword === keyword);
}
/** The exec-form JSON array of CMD / HEALTHCHECK CMD. */
function execForm(args: string): string[] {
  return JSON.parse(args.replace(/^(--\S+\s+)*(CMD\s+)?/, ''));
}

describe('deploy/Dockerfile', () => {
  it('builds on one slim Node LTS image in a builder and a runtime stage, within package.json engines', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    const image = /^node:(\d+)-bookworm-slim AS builder$/.exec(froms[0])?.[1];
    assert.ok(image, `builder: ${froms[0]}`);
    assert.deepEqual(froms, [`node:${image}-bookworm-slim AS builder`, `node:${image}-bookworm-slim AS runtime`]);
    // LTS lines are the even majors; 20 left support in April 2026, so 22 is the oldest supported.
    const major = Number(image);
    assert.ok(major % 2 === 0 && major >= 22, `node:${major} is not a supported LTS line`);
    const minimum = Number(/>=\s*(\d+)/.exec(JSON.parse(readRepoFile('package.json')).engines.node)?.[1]);
    assert.ok(major >= minimum, `node:${major} is below package.json engines`);
    const runs = inStage('builder', 'RUN').map((i) => i.args).join(' && ');
    for (const step of ['npm ci', 'npm run build', 'npm prune --omit=dev']) assert.ok(runs.includes(step), `builder runs ${step}`);
    const pkg = JSON.parse(readRepoFile('package.json'));
    assert.ok(pkg.scripts.build, 'package.json has the build script the builder runs');
  });

  it('copies from the build context only files that exist and .dockerignore lets through', () => {
    const copies = instructions.filter((i) => i.keyword === 'COPY').map((i) => copyArgs(i.args)).filter((c) => !c.from);
    assert.ok(copies.length > 0);
    for (const { sources } of copies) {
      for (const source of sources) {
        const path = source.replace(/^\.\//, '').replace(/\/$/, '');
        assert.ok(exists(path), `COPY ${source}: not in the repository`);
        assert.ok(!dockerIgnores(ignore, path), `COPY ${source}: excluded by .dockerignore`);
      }
    }
  });

  it('copies from the builder only what the build produces', () => {
    const fromBuilder = inStage('runtime', 'COPY').map((i) => copyArgs(i.args)).filter((c) => c.from === 'builder');
    const copied = fromBuilder.flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, '')));
    assert.deepEqual(copied.sort(), ['dist/console', 'dist/migrations', 'dist/src', 'node_modules', 'package.json']);
    for (const path of copied) assert.ok(exists(path), `${path} does not exist after npm run build`);
  });

  it('ships what the server reads at run time besides compiled code', () => {
    const runtimeSources = inStage('runtime', 'COPY').flatMap((i) => copyArgs(i.args).sources);
    if (exists('proto')) assert.ok(runtimeSources.includes('proto'), 'the gRPC server loads proto/ at run time');
    const bins = Object.values<string>(JSON.parse(readRepoFile('package.json')).bin ?? {});
    for (const bin of bins) {
      assert.ok(runtimeSources.some((s) => bin === s || bin.startsWith(`${s}/`)), `the image ships ${bin} (package.json bin)`);
    }
    const assets = readdirSync(repoPath('src'), { recursive: true, encoding: 'utf8' }).filter(
      (f) => /\.[a-z]+$/.test(f) && !/\.(ts|md|json)$/.test(f),
    );
    // tsc emits .ts (and imported .json) into dist/; anything else under src/ would be missing from the image.
    assert.deepEqual(assets, [], 'src/ holds only what tsc carries into dist/');
  });

  it('runs the built server as a non-root user in production mode', () => {
    const [cmd] = inStage('runtime', 'CMD');
    const argv = execForm(cmd.args);
    assert.deepEqual(argv, ['node', 'dist/src/main.js']);
    assert.ok(exists(argv[1]), `${argv[1]} is produced by the build`);
    const [user] = inStage('runtime', 'USER');
    assert.ok(user && !/^(0|root)(:|$)/.test(user.args), 'runtime user is not root');
    assert.ok(inStage('runtime', 'ENV').some((e) => /NODE_ENV=production/.test(e.args)));
  });

  it('exposes the default ports and checks /healthz without curl', () => {
    const [expose] = inStage('runtime', 'EXPOSE');
    assert.deepEqual(expose.args.split(/\s+/).map(Number), [defaults.port, defaults.grpcPort]);
    const [healthcheck] = inStage('runtime', 'HEALTHCHECK');
    const argv = execForm(healthcheck.args);
    assert.equal(argv[0], 'node');
    assert.ok(argv.join(' ').includes("'/healthz'"));
  });

  it('.dockerignore keeps local builds, dependencies and secrets out of the context', () => {
    for (const path of ['node_modules/x', 'dist/src/main.js', '.git/HEAD', '.env', 'data/pg', 'test/deploy/x.ts']) {
      assert.ok(dockerIgnores(ignore, path), `${path} should be ignored`);
    }
  });
});
