import { int32ArrayBytes, OBJECT_BYTES } from './heap-costs';

/** Fibonacci hashing: consecutive keys land far apart, so runs of keys probe as little as random ones. */
const GOLDEN = 0x9e3779b1 | 0;
const MIN_CAPACITY = 8;
const NO_SLOTS = new Int32Array(0);

/**
 * A map from positive 31-bit integers to 32-bit integers on one Int32Array, key and value side
 * by side (key 0 marks a free slot): open addressing with linear probing and backward-shift
 * deletion, so no tombstones build up. At most 3/4 full, doubled when it would be fuller and
 * halved below 1/4, it costs 11-32 bytes a key where a Map of numbers costs about 50, and
 * nothing until its first key. Same get/set/delete as a Map, so the journal undoes it alike.
 */
export class IntMap {
  private slots = NO_SLOTS;
  /** 32 - log2(capacity): the hash is the top bits of the product. */
  private shift = 32;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: number): number | undefined {
    // Key 0 marks a free slot: it would find one.
    if (this.count === 0 || key === 0) return undefined;
    const s = this.slots;
    const mask = s.length - 1;
    for (let i = this.home(key); ; i = (i + 2) & mask) {
      const k = s[i]!;
      if (k === key) return s[i + 1];
      if (k === 0) return undefined;
    }
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  set(key: number, value: number): this {
    if (!(key > 0 && key <= 0x7fffffff && Number.isInteger(key))) throw new RangeError(`IntMap key ${key} is not a positive 31-bit integer`);
    if (this.slots.length === 0) this.resize(MIN_CAPACITY);
    let i = this.find(key);
    if (this.slots[i] === 0) {
      if ((this.count + 1) * 4 > this.capacity * 3) {
        this.resize(this.capacity * 2);
        i = this.find(key);
      }
      this.slots[i] = key;
      this.count++;
    }
    this.slots[i + 1] = value;
    return this;
  }

  delete(key: number): boolean {
    if (this.count === 0) return false;
    const s = this.slots;
    const mask = s.length - 1;
    let hole = this.find(key);
    if (s[hole] === 0) return false;
    // Backward shift: pull each later key of the run into the hole unless its home lies
    // cyclically in (hole, j], where moving it would put it before its home.
    for (let j = (hole + 2) & mask; s[j] !== 0; j = (j + 2) & mask) {
      const home = this.home(s[j]!);
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        s[hole] = s[j]!;
        s[hole + 1] = s[j + 1]!;
        hole = j;
      }
    }
    s[hole] = 0;
    s[hole + 1] = 0;
    this.count--;
    if (this.count === 0) this.clear();
    else if (this.capacity > MIN_CAPACITY && this.count * 4 < this.capacity) this.resize(this.capacity >> 1);
    return true;
  }

  /** Approximate heap bytes (footprint.ts). */
  approximateBytes(): number {
    return OBJECT_BYTES + int32ArrayBytes(this.slots.length);
  }

  /** Keys and values, in slot order (no order to rely on). */
  *entries(): IterableIterator<[number, number]> {
    const s = this.slots;
    for (let i = 0; i < s.length; i += 2) if (s[i] !== 0) yield [s[i]!, s[i + 1]!];
  }

  private get capacity(): number {
    return this.slots.length >> 1;
  }

  private clear(): void {
    this.slots = NO_SLOTS;
    this.shift = 32;
  }

  /** Index (of the key word) of the home slot of `key`. */
  private home(key: number): number {
    return (Math.imul(key, GOLDEN) >>> this.shift) << 1;
  }

  /** The slot holding `key`, or the free slot where it would go. */
  private find(key: number): number {
    const s = this.slots;
    const mask = s.length - 1;
    let i = this.home(key);
    while (s[i] !== 0 && s[i] !== key) i = (i + 2) & mask;
    return i;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.slots = new Int32Array(capacity * 2);
    this.shift = 32 - Math.log2(capacity);
    for (let i = 0; i < old.length; i += 2) {
      const key = old[i]!;
      if (key !== 0) {
        const at = this.find(key);
        this.slots[at] = key;
        this.slots[at + 1] = old[i + 1]!;
      }
    }
  }
}
