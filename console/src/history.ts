import { api } from './api';
import type { EventEnvelope } from './types';

/**
 * The last version of a host whose event occurred at or before `at` (0 when none did): a
 * binary search over the host's versions (1..head), one single-event read a step.
 */
export async function versionAt(hostId: string, at: Date, head: number): Promise<number> {
  let lo = 0; // occurred at or before `at` (0: before the first event)
  let hi = head + 1; // after `at`
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const { events } = await api.events({ hostId, afterVersion: mid - 1, pageSize: 1 });
    if (events.length === 0 || new Date(events[0].occurredAt) > at) hi = mid;
    else lo = mid;
  }
  return lo;
}

/** What the map shows of an fd beside its entries: its tenant, VM and local/global split. */
export interface FdFacts {
  fdId: string;
  tenantId: string;
  vmId: string;
  /** The first global PASID (global hwid mode, once set). */
  globalMin?: number;
}

/** The event types that say who owns an fd and where its split lies. */
/** The fd an event concerns, when it concerns one. */
export function fdIdOf(e: EventEnvelope): string | undefined {
  return 'fdId' in e.data ? e.data.fdId : undefined;
}

export const FD_FACT_TYPES = ['FdCreated', 'FdImported', 'GlobalMinSet'] as const;

export async function loadFdFactEvents(hostId: string): Promise<EventEnvelope[]> {
  const lists = await Promise.all(FD_FACT_TYPES.map((type) => api.allEvents({ hostId, type })));
  return lists.flat().sort((a, b) => a.version - b.version);
}

/** The fds of a host as of `version`, from its fd fact events (in version order). */
export function fdFactsAt(events: EventEnvelope[], version: number): Map<string, FdFacts> {
  const fds = new Map<string, FdFacts>();
  for (const e of events) {
    if (e.version > version) break;
    const data = e.data as { fdId: string; tenantId?: string; vmId?: string; globalMin?: number | null };
    switch (e.type) {
      case 'FdCreated':
        fds.set(data.fdId, { fdId: data.fdId, tenantId: data.tenantId ?? '', vmId: data.vmId ?? '' });
        break;
      case 'FdImported':
        fds.set(data.fdId, {
          fdId: data.fdId,
          tenantId: data.tenantId ?? '',
          vmId: data.vmId ?? '',
          ...(typeof data.globalMin === 'number' ? { globalMin: data.globalMin } : {}),
        });
        break;
      case 'GlobalMinSet': {
        const fd = fds.get(data.fdId);
        if (fd && typeof data.globalMin === 'number') fds.set(data.fdId, { ...fd, globalMin: data.globalMin });
        break;
      }
    }
  }
  return fds;
}
