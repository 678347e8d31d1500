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
  help: 'Committed events not yet published to the transport',
  registers: [registry],
});

export const projectionLag = new Gauge({
  name: 'ioasid_projection_lag_events',
  help: 'Committed events not yet applied by the projector',
  registers: [registry],
});
