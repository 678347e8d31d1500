/** Ids per leaf page: 32 words of 32 bits. */
const PAGE_SHIFT = 10;
const PAGE_IDS = 1 << PAGE_SHIFT;
/** Leaf page layout: words 0..31 hold one bit per id (1 = used), SUMMARY one bit per full word, COUNT the ids used. */
const SUMMARY = 32;
const COUNT = 33;
const PAGE_WORDS = 34;
const FULL = 0xffffffff;

/**
 * The host PASID allocator: up to 2^20 ids, in leaf pages of 1,024 ids created when an id of
 * theirs is first taken and dropped when their last one is released, so a host pays for the
 * ids it holds, not for the space it could hold (an absent page is all free).
 *
 * Finding the lowest free id costs the same few word operations whether the space is 1% or
 * 99% full: each page summarises its full words in one word, `fullPages` has one bit per full
 * page and `top` one bit per full word of `fullPages` (32 * 32 pages = 2^20 ids). A search
 * looks in the page of its start, then walks up the summaries to the next page with room.
 *
 * PASID 0 is reserved (DMA without PASID): it is never handed out and not counted.
 */
export class PasidAllocator {
  private readonly pages: Array<Uint32Array | undefined> = [];
  private readonly pageCount: number;
  private readonly fullPages: Uint32Array;
  private top = 0;
  private usedCount = 0;
  /** The last page dropped, zeroed, kept for the next one needed: one id taken and released in turn allocates nothing. */
  private spare: Uint32Array | undefined;

  /** Ids 1..size-1 are allocatable; size is a power of two up to 2^20. */
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 2 || size > 1 << 20) {
      throw new RangeError(`allocator size must be an integer in [2, 2^20], got ${size}`);
    }
    // Ids past `size` in the last page stay free: a search that finds one has found nothing in range.
    this.pageCount = Math.ceil(size / PAGE_IDS);
    this.fullPages = new Uint32Array(Math.ceil(this.pageCount / 32));
    this.markUsed(0);
  }

  /** Allocatable ids currently in use. */
  get used(): number {
    return this.usedCount;
  }

  /** Allocatable ids currently free. */
  get free(): number {
    return this.size - 1 - this.usedCount;
  }

  isUsed(id: number): boolean {
    if (!this.inRange(id) || id === 0) return false;
    const page = this.pages[id >>> PAGE_SHIFT];
    return page !== undefined && (page[(id >>> 5) & 31]! & (1 << (id & 31))) !== 0;
  }

  /** The lowest free id in [min, max), without taking it; undefined when there is none. */
  lowestFree(min: number, max: number): number | undefined {
    const from = Math.max(1, Math.floor(min));
    const to = Math.min(this.size, max);
    if (from >= to) return undefined;
    const found = this.find(from);
    return found >= 0 && found < to ? found : undefined;
  }

  /** Takes and returns the lowest free id in [min, max); undefined when the range is full. */
  alloc(min: number, max: number): number | undefined {
    const id = this.lowestFree(min, max);
    if (id !== undefined) this.take(id);
    return id;
  }

  /** Takes a given id (replay applies decided allocations): throws if it is out of range or used. */
  reserve(id: number): void {
    if (!this.inRange(id) || id === 0) throw new RangeError(`PASID ${id} is outside [1, ${this.size})`);
    if (this.isUsed(id)) throw new RangeError(`PASID ${id} is already allocated`);
    this.take(id);
  }

  /** Returns an id to the pool: throws if it is not allocated. */
  release(id: number): void {
    if (!this.inRange(id) || id === 0 || !this.isUsed(id)) throw new RangeError(`PASID ${id} is not allocated`);
    this.usedCount--;
    const p = id >>> PAGE_SHIFT;
    const page = this.pages[p]!;
    const w = (id >>> 5) & 31;
    if (--page[COUNT]! === 0) {
      // Only a page without a single used id is dropped, and such a page was never full.
      page[w] = 0;
      this.pages[p] = undefined;
      this.spare = page;
      return;
    }
    const wordWasFull = page[w] === FULL;
    page[w]! &= ~(1 << (id & 31));
    if (!wordWasFull) return;
    const pageWasFull = page[SUMMARY] === FULL;
    page[SUMMARY]! &= ~(1 << w);
    if (!pageWasFull) return;
    const f = p >>> 5;
    if (this.fullPages[f] === FULL) this.top &= ~(1 << f);
    this.fullPages[f]! &= ~(1 << (p & 31));
  }

  /** Allocated ids in ascending order. */
  usedIds(): number[] {
    const out: number[] = [];
    this.forEachUsed((id) => out.push(id));
    return out;
  }

  /** Calls `visit` for each allocated id in ascending order (no iterator: snapshots walk a million). */
  forEachUsed(visit: (id: number) => void): void {
    for (let p = 0; p < this.pages.length; p++) {
      const page = this.pages[p];
      if (page === undefined) continue;
      for (let w = 0; w < 32; w++) {
        let bits = page[w]!;
        if (p === 0 && w === 0) bits &= ~1;
        while (bits !== 0) {
          const low = bits & -bits;
          visit((p << PAGE_SHIFT) + (w << 5) + (31 - Math.clz32(low)));
          bits ^= low;
        }
      }
    }
  }

  private inRange(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.size;
  }

  private take(id: number): void {
    this.usedCount++;
    this.markUsed(id);
  }

  private markUsed(id: number): void {
    const p = id >>> PAGE_SHIFT;
    let page = this.pages[p];
    if (page === undefined) {
      this.pages[p] = page = this.spare ?? new Uint32Array(PAGE_WORDS);
      this.spare = undefined;
    }
    page[COUNT]!++;
    const w = (id >>> 5) & 31;
    page[w]! |= 1 << (id & 31);
    if (page[w] !== FULL) return;
    page[SUMMARY]! |= 1 << w;
    if (page[SUMMARY] !== FULL) return;
    const f = p >>> 5;
    this.fullPages[f]! |= 1 << (p & 31);
    if (this.fullPages[f] === FULL) this.top |= 1 << f;
  }

  /** Lowest id >= from whose bit is clear (possibly past `size`), or -1. */
  private find(from: number): number {
    const p = from >>> PAGE_SHIFT;
    const page = this.pages[p];
    if (page === undefined) return from;
    const w = (from >>> 5) & 31;
    const bits = ~page[w]! & (FULL << (from & 31));
    if (bits !== 0) return (p << PAGE_SHIFT) + (w << 5) + lowestBit(bits);
    const words = w === 31 ? 0 : ~page[SUMMARY]! & (FULL << (w + 1));
    if (words !== 0) return firstFreeIn(page, p, lowestBit(words));
    const next = this.nextRoomyPage(p + 1);
    if (next < 0) return -1;
    const nextPage = this.pages[next];
    return nextPage === undefined ? next << PAGE_SHIFT : firstFreeIn(nextPage, next, lowestBit(~nextPage[SUMMARY]!));
  }

  /** The lowest page >= p that is not full, or -1. */
  private nextRoomyPage(p: number): number {
    if (p >= this.pageCount) return -1;
    const f = p >>> 5;
    const bits = ~this.fullPages[f]! & (FULL << (p & 31));
    let found: number;
    if (bits !== 0) {
      found = (f << 5) + lowestBit(bits);
    } else {
      const rest = f === 31 ? 0 : ~this.top & (FULL << (f + 1));
      if (rest === 0) return -1;
      const g = lowestBit(rest);
      if (g >= this.fullPages.length) return -1;
      found = (g << 5) + lowestBit(~this.fullPages[g]!);
    }
    return found < this.pageCount ? found : -1;
  }
}

function firstFreeIn(page: Uint32Array, p: number, w: number): number {
  return (p << PAGE_SHIFT) + (w << 5) + lowestBit(~page[w]!);
}

function lowestBit(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}
