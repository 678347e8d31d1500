import { describe, it } from 'node:test';
import { pgliteBackend, postgresBackend, useTestApp, type TestBackend } from '../support/app';
import { restCalls, runEnqcmdScenario } from '../support/enqcmd-scenario';

/**
 * The README's worked example (seed scenario 3, SR-IOV with ENQCMD), run on PostgreSQL and on
 * the embedded PGlite default; every answer is also checked against the OpenAPI document.
 */
const backends: Array<[string, () => Promise<TestBackend>]> = [
  ['PostgreSQL', postgresBackend],
  ['embedded PGlite', pgliteBackend],
];

for (const [name, makeBackend] of backends) {
  describe(`README ENQCMD scenario on ${name}`, () => {
    const suite = useTestApp({ backend: makeBackend, validateResponses: true });

    it('runs every step of the README with the documented answers', async () => {
      await runEnqcmdScenario(restCalls(suite.app.operator));
    });
  });
}
