import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics, served at GET /metrics. One registry per process;
 * modules record into these objects directly.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const commandDuration = new Histogram({
  name: 'ioasid_command_duration_seconds',
  help: 'Time from dispatch to committed answer of a host command, by command type and outcome',
  labelNames: ['command', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const versionConflicts = new Counter({
  name: 'ioasid_version_conflicts_total',
  help: 'Appends refused because another writer advanced the host first',
  registers: [registry],
});

export const commandRetries = new Counter({
  name: 'ioasid_command_retries_total',
  help: 'Commands re-decided after a version conflict',
  registers: [registry],
});

export const pasidsInUse = new Gauge({
  name: 'ioasid_host_pasids_in_use',
  help: 'Host-allocated PASIDs in use, per host (from the projection)',
  labelNames: ['host'] as const,
  registers: [registry],
});

export const outboxLag = new Gauge({
  name: 'ioasid_outbox_pending_events',
  help: 'Committed events not yet published to the transport (as of the last relay pass or readiness check, counted up to 10000)',
  registers: [registry],
});

/** What a scrape reads from the live process, in memory (no query): registered by readiness. */
export interface ScrapeSample {
  /** 1 when the event transport (Kafka) works for this process, 0 when not; undefined: no such health (in-process). */
  transportUp?: number;
  /** Events this process's projector has yet to apply; undefined where it does not project. */
  projectionLag?: number;
}

let sampler: (() => ScrapeSample) | undefined;

/** Sets the source read at each scrape; `undefined` clears it (only if `current` is still the one set, when given). */
export function sampleAtScrape(source: (() => ScrapeSample) | undefined, current?: () => ScrapeSample): void {
  if (source === undefined && current !== undefined && sampler !== current) return;
  sampler = source;
}

export const projectionLag = new Gauge({
  name: 'ioasid_projection_lag_events',
  help: "Events this process's projector has yet to apply (Kafka: up to the assigned partitions' high watermarks)",
  registers: [registry],
  collect() {
    const lag = sampler?.().projectionLag;
    if (lag !== undefined) this.set(lag);
  },
});

export const transportUp = new Gauge({
  name: 'ioasid_transport_up',
  help: 'Whether the event transport (Kafka) works for this process: 1 yes, 0 no; an API process stays ready without it (the outbox keeps the events)',
  registers: [registry],
  collect() {
    const up = sampler?.().transportUp;
    if (up !== undefined) this.set(up);
  },
});
