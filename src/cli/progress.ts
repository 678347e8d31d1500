import { Presets, SingleBar } from 'cli-progress';

/** Below this many events a run is short: a bar would only flicker. */
const LONG_RUN_EVENTS = 10_000;

export interface Progress {
  update(done: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

/**
 * A progress bar on stderr for long runs, only when stdout is a terminal: output piped to a
 * file or another program (--json, scripts, tests) stays free of it.
 * `total` is unknown for sources that cannot count a host's events up front (file, Kafka).
 */
export function progressBar(label: string, total: number | undefined): Progress {
  if (!process.stdout.isTTY || (total !== undefined && total < LONG_RUN_EVENTS)) return SILENT;
  const format = total === undefined ? `${label} {value} events` : `${label} [{bar}] {percentage}% {value}/{total} events, eta {eta_formatted}`;
  const bar = new SingleBar({ format, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 }, Presets.shades_classic);
  bar.start(total ?? 0, 0);
  return {
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
