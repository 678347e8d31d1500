import { useEffect, useState } from 'preact/hooks';
import { versionAt } from '../history';
import { Problem } from './problem';

/**
 * Where in the host's history the page stands: a slider and a number over versions 1..head, a
 * time (the last version that occurred by then), and "now" (follows new events).
 */
export function TimeTravel(props: { hostId: string; head: number; version?: number; onVersion: (v: number | undefined) => void }) {
  const { hostId, head, version, onVersion } = props;
  const [draft, setDraft] = useState(version ?? head);
  const [time, setTime] = useState('');
  const [timeError, setTimeError] = useState<unknown>();
  useEffect(() => setDraft(version ?? head), [version, head]);

  const go = (v: number) => onVersion(v >= head ? undefined : Math.max(1, v));
  return (
    <section class="travel" aria-labelledby="travel-h">
      <h2 id="travel-h">Time travel</h2>
      <p role="status" aria-live="polite" class="where" data-at={version === undefined ? 'now' : 'past'}>
        {version === undefined ? (
          <>
            <span class="live-dot" aria-hidden="true" /> Now: version {head}, following new events
          </>
        ) : (
          <>
            Version {version} of {head}; differences from now are marked
          </>
        )}
      </p>
      <div class="travel-controls">
        <label for="version-slider">Version</label>
        <input
          id="version-slider"
          type="range"
          min={1}
          max={Math.max(1, head)}
          value={draft}
          onInput={(e) => setDraft(Number(e.currentTarget.value))}
          onChange={(e) => go(Number(e.currentTarget.value))}
        />
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            go(draft);
          }}
        >
          <label for="version-input">Go to version</label>
          <input id="version-input" type="number" min={1} max={head} value={draft} onInput={(e) => setDraft(Number(e.currentTarget.value))} />
          <button type="submit">Show</button>
        </form>
        <form
          class="inline"
          onSubmit={async (e) => {
            e.preventDefault();
            setTimeError(undefined);
            const at = new Date(time);
            if (Number.isNaN(at.getTime())) return;
            try {
              const v = await versionAt(hostId, at, head);
              if (v === 0) setTimeError(new Error(`no event of ${hostId} occurred by ${at.toISOString()}`));
              else go(v);
            } catch (error) {
              setTimeError(error);
            }
          }}
        >
          <label for="time-input">Go to time</label>
          <input id="time-input" type="datetime-local" step={0.001} value={time} onInput={(e) => setTime(e.currentTarget.value)} />
          <button type="submit">Show</button>
        </form>
        <button type="button" disabled={version === undefined} onClick={() => onVersion(undefined)}>
          Now
        </button>
      </div>
      {timeError !== undefined && <Problem error={timeError} />}
    </section>
  );
}
