import { MAX_IOASID } from '../model/values';
import { int32ArrayBytes, MAP_BYTES, MAP_ENTRY_BYTES, OBJECT_BYTES } from './heap-costs';

/** Host PASIDs are below 2^20 (I1), so an ioasid's user PASID and host PASID pack into one exact number. */
const HOST_RANGE = 1 << 20;

/** An ioasid's entry as get/set (and so the journal) carry it: its user PASID and host PASID, 0 when unset. */
export function ioasidEntry(pasid: number, hostPasid: number): number {
  return pasid * HOST_RANGE + hostPasid;
}

const ABSENT = -1;
const NO_IDS = new Int32Array(0);
const MIN_DENSE = 8;
/** Ids below this always go to the dense array (at most 512 bytes of it). */
const ALWAYS_DENSE = 64;

function powerOfTwoAbove(n: number): number {
  let p = MIN_DENSE;
  while (p <= n) p *= 2;
  return p;
}

/**
 * An fd's ioasids as the hardware holds them: for each, its user PASID (0 before its hwid is
 * set) and the host PASID it holds (0 when none). The decider allocates ids from 1 up, lowest
 * free first, so they are small and dense: they live in one Int32Array indexed by id (8 bytes
 * an id), grown by doubling. The array is at least 1/4 full when it grows and is rebuilt
 * smaller once 1/8 full, so it costs what the fd holds; an id too far above the others to grow
 * it for (an imported fd's, or whatever an event names) waits in a Map until the array reaches it.
 * Iteration is by ascending id (never insertion order). get/set/delete carry `ioasidEntry`
 * numbers, as a Map would, so the journal undoes them alike.
 */
export class FdIoasids {
  /** At 2*id the user PASID (ABSENT: no such ioasid), at 2*id+1 the host PASID, for every id below the capacity. */
  private dense = NO_IDS;
  /** Ids at or above the dense capacity -> their ioasidEntry. */
  private sparse: Map<number, number> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(ioasid: number): boolean {
    return this.pasidOf(ioasid) !== undefined;
  }

  /** The user PASID of the ioasid (0 before its hwid is set); undefined when the fd has no such ioasid. */
  pasidOf(ioasid: number): number | undefined {
    if (this.isDense(ioasid)) {
      const pasid = this.dense[2 * ioasid]!;
      return pasid === ABSENT ? undefined : pasid;
    }
    const entry = this.sparse?.get(ioasid);
    return entry === undefined ? undefined : Math.floor(entry / HOST_RANGE);
  }

  /** The host PASID the ioasid holds (0 when none); undefined when the fd has no such ioasid. */
  hostPasidOf(ioasid: number): number | undefined {
    if (this.isDense(ioasid)) return this.dense[2 * ioasid] === ABSENT ? undefined : this.dense[2 * ioasid + 1]!;
    const entry = this.sparse?.get(ioasid);
    return entry === undefined ? undefined : entry % HOST_RANGE;
  }

  get(ioasid: number): number | undefined {
    const pasid = this.pasidOf(ioasid);
    return pasid === undefined ? undefined : ioasidEntry(pasid, this.hostPasidOf(ioasid)!);
  }

  set(ioasid: number, entry: number): this {
    if (!(Number.isInteger(ioasid) && ioasid >= 1 && ioasid <= MAX_IOASID)) throw new RangeError(`ioasid ${ioasid} is not in [1, ${MAX_IOASID}]`);
    if (!this.isDense(ioasid) && !this.sparse?.has(ioasid)) {
      const capacity = powerOfTwoAbove(ioasid);
      if (capacity <= Math.max(ALWAYS_DENSE, 4 * (this.count + 1))) this.rebuild(capacity);
    }
    if (this.isDense(ioasid)) {
      if (this.dense[2 * ioasid] === ABSENT) this.count++;
      this.dense[2 * ioasid] = Math.floor(entry / HOST_RANGE);
      this.dense[2 * ioasid + 1] = entry % HOST_RANGE;
    } else {
      this.sparse ??= new Map();
      if (!this.sparse.has(ioasid)) this.count++;
      this.sparse.set(ioasid, entry);
    }
    return this;
  }

  delete(ioasid: number): boolean {
    if (this.isDense(ioasid)) {
      if (this.dense[2 * ioasid] === ABSENT) return false;
      this.dense[2 * ioasid] = ABSENT;
    } else {
      if (!this.sparse?.delete(ioasid)) return false;
      if (this.sparse.size === 0) this.sparse = undefined;
    }
    this.count--;
    if (this.count === 0) {
      this.dense = NO_IDS;
      this.sparse = undefined;
    } else if (this.capacity > ALWAYS_DENSE && this.count * 8 <= this.capacity) {
      this.rebuild(Math.max(ALWAYS_DENSE, Math.min(powerOfTwoAbove(this.topDenseId()), powerOfTwoAbove(4 * this.count - 1))));
    }
    return true;
  }

  /** Approximate heap bytes (footprint.ts). */
  approximateBytes(): number {
    return OBJECT_BYTES + int32ArrayBytes(this.dense.length) + (this.sparse ? MAP_BYTES + this.sparse.size * MAP_ENTRY_BYTES : 0);
  }

  /** Every ioasid by ascending id, with its user PASID and host PASID. */
  forEach(visit: (ioasid: number, pasid: number, hostPasid: number) => void): void {
    const d = this.dense;
    for (let at = 2; at < d.length; at += 2) if (d[at] !== ABSENT) visit(at >> 1, d[at]!, d[at + 1]!);
    if (this.sparse) {
      for (const ioasid of [...this.sparse.keys()].sort((a, b) => a - b)) {
        const entry = this.sparse.get(ioasid)!;
        visit(ioasid, Math.floor(entry / HOST_RANGE), entry % HOST_RANGE);
      }
    }
  }

  /** The ids, ascending. */
  *keys(): IterableIterator<number> {
    const d = this.dense;
    for (let at = 2; at < d.length; at += 2) if (d[at] !== ABSENT) yield at >> 1;
    if (this.sparse) yield* [...this.sparse.keys()].sort((a, b) => a - b);
  }

  private get capacity(): number {
    return this.dense.length >> 1;
  }

  private isDense(ioasid: number): boolean {
    return ioasid >>> 0 === ioasid && ioasid < this.capacity;
  }

  private topDenseId(): number {
    let at = this.dense.length - 2;
    while (at > 0 && this.dense[at] === ABSENT) at -= 2;
    return at >> 1;
  }

  /** Moves every id below `capacity` into a dense array of that capacity, and the others into the map. */
  private rebuild(capacity: number): void {
    const old = this.dense;
    const moved = this.sparse;
    this.dense = new Int32Array(2 * capacity).fill(ABSENT);
    this.sparse = undefined;
    const place = (ioasid: number, pasid: number, hostPasid: number) => {
      if (ioasid < capacity) {
        this.dense[2 * ioasid] = pasid;
        this.dense[2 * ioasid + 1] = hostPasid;
      } else {
        (this.sparse ??= new Map()).set(ioasid, ioasidEntry(pasid, hostPasid));
      }
    };
    for (let at = 2; at < old.length; at += 2) if (old[at] !== ABSENT) place(at >> 1, old[at]!, old[at + 1]!);
    for (const [ioasid, entry] of moved ?? []) place(ioasid, Math.floor(entry / HOST_RANGE), entry % HOST_RANGE);
  }
}
