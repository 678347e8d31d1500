#!/usr/bin/env node
// `npm run lint:openapi`: starts the service on a scratch embedded database, reads its /docs-json
// and lints it with Spectral (spectral:oas) and Redocly (recommended); exits 1 on any error.
// Runs from the build (dist/), like scripts/run-tests.js; test/api/openapi-lint.test.ts does the same in `npm test`.
'use strict';
const { join } = require('node:path');

const dist = join(__dirname, '..', 'dist', 'test', 'support');
const { pgliteBackend, startTestApp } = require(join(dist, 'app.js'));
const { fetchOpenApi, lintOpenApi } = require(join(dist, 'openapi-lint.js'));

async function main() {
  const backend = await pgliteBackend();
  const app = await startTestApp(backend.env);
  let runs;
  try {
    runs = await lintOpenApi(await fetchOpenApi(app.url));
  } finally {
    await app.close();
    await backend.dispose();
  }
  for (const run of runs) console.log(`--- ${run.linter} (exit ${run.exitCode})\n${run.output.trim()}`);
  return runs.every((run) => run.exitCode === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
