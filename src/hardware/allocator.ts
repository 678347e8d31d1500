/**
 * The host PASID allocator: a bitmap of up to 2^20 ids with summary levels, so finding the
 * lowest free id costs the same few word operations whether the space is 1% or 99% full.
 *
 * Level 0 holds one bit per id (1 = used). Each higher level holds one bit per word of the
 * level below, set when that word is full. A search walks up until a level shows a word
 * with room, then straight down taking the lowest free bit of each word.
 *
 * PASID 0 is reserved (DMA without PASID): it is never handed out and not counted.
 */
export class PasidAllocator {
  private readonly levels: Uint32Array[];
  private usedCount = 0;

  /** Ids 1..size-1 are allocatable; size is a power of two up to 2^20. */
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 2 || size > 1 << 20) {
      throw new RangeError(`allocator size must be an integer in [2, 2^20], got ${size}`);
    }
    this.levels = [];
    let bits = size;
    for (;;) {
      const words = Math.ceil(bits / 32);
      this.levels.push(new Uint32Array(words));
      if (words === 1) break;
      bits = words;
    }
    // Bits past the end of each level are marked full so that no search ever returns them.
    let count = size;
    for (const level of this.levels) {
      for (let i = count; i < level.length * 32; i++) this.setBit(level, i);
      count = level.length;
    }
    for (let l = 0; l + 1 < this.levels.length; l++) {
      const level = this.levels[l]!;
      for (let w = 0; w < level.length; w++) if (level[w] === 0xffffffff) this.setBit(this.levels[l + 1]!, w);
    }
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
    return (this.levels[0]![id >>> 5]! & (1 << (id & 31))) !== 0;
  }

  /** The lowest free id in [min, max), without taking it; undefined when there is none. */
  lowestFree(min: number, max: number): number | undefined {
    const from = Math.max(1, Math.floor(min));
    const to = Math.min(this.size, max);
    if (from >= to) return undefined;
    const found = this.find(0, from);
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
    let index = id;
    for (const level of this.levels) {
      const w = index >>> 5;
      const wasFull = level[w] === 0xffffffff;
      level[w]! &= ~(1 << (index & 31));
      if (!wasFull) break;
      index = w;
    }
  }

  /** Allocated ids in ascending order. */
  usedIds(): number[] {
    const out: number[] = [];
    this.forEachUsed((id) => out.push(id));
    return out;
  }

  /** Calls `visit` for each allocated id in ascending order (no iterator: snapshots walk a million). */
  forEachUsed(visit: (id: number) => void): void {
    const words = this.levels[0]!;
    for (let w = 0; w < words.length; w++) {
      let bits = words[w]!;
      if (w === 0) bits &= ~1;
      while (bits !== 0) {
        const low = bits & -bits;
        const id = (w << 5) + (31 - Math.clz32(low));
        if (id >= this.size) return;
        visit(id);
        bits ^= low;
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
    let index = id;
    for (const level of this.levels) {
      const w = index >>> 5;
      level[w]! |= 1 << (index & 31);
      if (level[w] !== 0xffffffff) break;
      index = w;
    }
  }

  private setBit(level: Uint32Array, i: number): void {
    level[i >>> 5]! |= 1 << (i & 31);
  }

  /** Lowest position >= i at `level` whose bit is clear, or -1. */
  private find(level: number, i: number): number {
    const words = this.levels[level]!;
    const w = i >>> 5;
    if (w >= words.length) return -1;
    const bits = ~words[w]! & (0xffffffff << (i & 31));
    if (bits !== 0) return (w << 5) + lowestBit(bits);
    if (level + 1 === this.levels.length) return -1;
    const next = this.find(level + 1, w + 1);
    if (next < 0) return -1;
    return (next << 5) + lowestBit(~words[next]!);
  }
}

function lowestBit(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}
