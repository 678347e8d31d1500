import type { HardwareReads } from './hardware-port';
import type { HwidMode } from '../model/values';
import type { AttachmentView, IoasidRecord } from '../model/views';

/** An ioasid as the decider reads it (composed by IoasidTable from the hardware and the fd's details); its attachments are shared, never changed in place. */
export type IoasidState = Omit<IoasidRecord, 'attachments'> & { attachments: readonly AttachmentView[] };

export const NO_ATTACHMENTS: readonly AttachmentView[] = Object.freeze([]);

/** What the hardware does not hold about an ioasid: kept only for ioasids that have some. */
export type IoasidDetails = Pick<IoasidState, 'pgtableGpa' | 'pasidTableGpa' | 'attachments'>;

/**
 * An fd's ioasids, read through: existence, user PASID and host PASID come from the
 * emulated hardware (which holds them anyway), GPAs and attachments from `details`. An
 * ioasid with nothing but a hwid therefore costs the decider state nothing of its own,
 * which keeps a host with a million PASIDs small. `get` and iteration build a fresh
 * IoasidState each time: read it, do not keep it across events.
 */
export class IoasidTable {
  readonly details = new Map<number, IoasidDetails>();

  constructor(
    private readonly hw: HardwareReads,
    private readonly fdId: string,
    /** The fd's mode, read when composing: it tells a global host PASID from a real one. */
    private readonly modeOf: () => HwidMode | null,
  ) {}

  get size(): number {
    return this.records()?.size ?? 0;
  }

  has(ioasid: number): boolean {
    return this.records()?.has(ioasid) ?? false;
  }

  get(ioasid: number): IoasidState | undefined {
    const records = this.records();
    const pasid = records?.pasidOf(ioasid);
    return pasid === undefined ? undefined : this.compose(ioasid, pasid, records!.hostPasidOf(ioasid)!);
  }

  /** Ascending. */
  *keys(): IterableIterator<number> {
    yield* this.records()?.keys() ?? [];
  }

  /** By ascending id. */
  *values(): IterableIterator<IoasidState> {
    const records = this.records();
    if (records) for (const ioasid of records.keys()) yield this.compose(ioasid, records.pasidOf(ioasid)!, records.hostPasidOf(ioasid)!);
  }

  /** The ioasids with attachments or GPAs (a cheap subset to scan). */
  *withDetails(): IterableIterator<IoasidState> {
    for (const ioasid of this.details.keys()) yield this.get(ioasid)!;
  }

  /** Changes the details of an ioasid; an ioasid left with none drops its record. */
  update(ioasid: number, change: Partial<IoasidDetails>): void {
    const next: IoasidDetails = { ...(this.details.get(ioasid) ?? { attachments: NO_ATTACHMENTS }), ...change };
    if (next.pgtableGpa === undefined && next.pasidTableGpa === undefined && next.attachments.length === 0) this.details.delete(ioasid);
    else this.details.set(ioasid, next);
  }

  private records() {
    return this.hw.ioasidsOf(this.fdId);
  }

  private compose(ioasid: number, localPasid: number, hostPasid: number): IoasidState {
    const d = this.details.get(ioasid);
    const global = this.modeOf() === 'global';
    return {
      ioasid,
      pasid: localPasid || undefined,
      globalPasid: global && hostPasid ? hostPasid : undefined,
      realPasid: !global && hostPasid ? hostPasid : undefined,
      pgtableGpa: d?.pgtableGpa,
      pasidTableGpa: d?.pasidTableGpa,
      attachments: d?.attachments ?? NO_ATTACHMENTS,
    };
  }
}
