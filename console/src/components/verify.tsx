import { useState } from 'preact/hooks';
import { api } from '../api';
import type { VerifyResult } from '../types';
import { Problem } from './problem';

/** Runs the host's verification (hash chain and a full replay against the live state). */
export function Verify({ hostId }: { hostId: string }) {
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<VerifyResult>();
  const [error, setError] = useState<unknown>();
  const run = async () => {
    setRunning(true);
    setResult(undefined);
    setError(undefined);
    try {
      setResult(await api.verify(hostId));
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  };
  return (
    <section class="verify" aria-labelledby="verify-h">
      <h2 id="verify-h">Verify</h2>
      <button type="button" onClick={run} disabled={running}>
        {running ? 'Verifying…' : 'Verify the log'}
      </button>
      <div role="status" aria-live="polite">
        {result?.ok && (
          <p class="verdict ok" data-verify="ok">
            OK: the hash chain and a full replay agree with the live state at version {result.version}. Hash <code class="hash">{result.hash}</code>
          </p>
        )}
        {result && !result.ok && (
          <p class="verdict bad" data-verify="failed" data-first-bad-version={result.firstBadVersion}>
            FAILED{result.firstBadVersion !== undefined && <> at version {result.firstBadVersion} (the first bad version)</>}: {result.reason}
          </p>
        )}
      </div>
      {error !== undefined && <Problem error={error} />}
    </section>
  );
}
