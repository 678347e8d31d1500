import type { PasidOrigin } from '../model/values';
import { PasidAllocator } from './allocator';

const ORIGIN_CODES: Record<PasidOrigin, number> = { local: 0, global: 1, real: 2 };
const ORIGINS: PasidOrigin[] = ['local', 'global', 'real'];

export interface PasidOwner {
  slot: number;
  ioasid: number;
  origin: PasidOrigin;
}

/** Owners are kept in pages of 128 PASIDs, each created on its first owner and dropped with its last. */
const OWNER_SHIFT = 7;
const OWNER_MASK = (1 << OWNER_SHIFT) - 1;
/** Owner page layout: two words per PASID (slot << 2 | origin code, ioasid), then the count of owners. */
const OWNER_COUNT = 2 << OWNER_SHIFT;

/**
 * The host PASID allocator plus, for each allocated PASID, which fd slot and ioasid hold it
 * and whether it is global or real. Both are paged and created on demand, so a host with a
 * few PASIDs costs a few hundred bytes here and a million cost about 9 MB.
 */
export class PasidSpace {
  readonly allocator: PasidAllocator;
  /** Owner pages by PASID >> OWNER_SHIFT; a plain array, read on every PASID event of a replay. */
  private readonly owners: Array<Int32Array | undefined> = [];
  /** The last page dropped, zeroed, kept for the next one needed: one PASID taken and given in turn allocates nothing. */
  private spare: Int32Array | undefined;

  constructor(pasidBits: number) {
    this.allocator = new PasidAllocator(2 ** pasidBits);
  }

  get size(): number {
    return this.allocator.size;
  }

  /** Throws RangeError when the PASID is out of range or already allocated. */
  take(pasid: number, owner: PasidOwner): void {
    this.allocator.reserve(pasid);
    const key = pasid >>> OWNER_SHIFT;
    let page = this.owners[key];
    if (page === undefined) {
      this.owners[key] = page = this.spare ?? new Int32Array(OWNER_COUNT + 1);
      this.spare = undefined;
    }
    const at = (pasid & OWNER_MASK) << 1;
    page[at] = (owner.slot << 2) | ORIGIN_CODES[owner.origin];
    page[at + 1] = owner.ioasid;
    page[OWNER_COUNT]!++;
  }

  give(pasid: number): void {
    this.allocator.release(pasid);
    const key = pasid >>> OWNER_SHIFT;
    const page = this.owners[key]!;
    const at = (pasid & OWNER_MASK) << 1;
    page[at] = 0;
    page[at + 1] = 0;
    if (--page[OWNER_COUNT]! === 0) {
      this.owners[key] = undefined;
      this.spare = page;
    }
  }

  /** Each allocated PASID with its owner, ascending, without building owner objects. */
  forEachOwned(visit: (pasid: number, slot: number, ioasid: number, origin: PasidOrigin) => void): void {
    this.allocator.forEachUsed((pasid) => {
      const page = this.owners[pasid >>> OWNER_SHIFT]!;
      const at = (pasid & OWNER_MASK) << 1;
      visit(pasid, page[at]! >> 2, page[at + 1]!, ORIGINS[page[at]! & 3]!);
    });
  }

  ownerOf(pasid: number): PasidOwner | undefined {
    if (!this.allocator.isUsed(pasid) || pasid === 0) return undefined;
    const page = this.owners[pasid >>> OWNER_SHIFT]!;
    const at = (pasid & OWNER_MASK) << 1;
    return { slot: page[at]! >> 2, ioasid: page[at + 1]!, origin: ORIGINS[page[at]! & 3]! };
  }

  isOwnedBy(pasid: number, slot: number, ioasid: number, origin: PasidOrigin): boolean {
    if (!(pasid > 0 && pasid < this.size && this.allocator.isUsed(pasid))) return false;
    const page = this.owners[pasid >>> OWNER_SHIFT]!;
    const at = (pasid & OWNER_MASK) << 1;
    return page[at] === ((slot << 2) | ORIGIN_CODES[origin]) && page[at + 1] === ioasid;
  }
}
