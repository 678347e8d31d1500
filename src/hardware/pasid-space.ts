import type { PasidOrigin } from '../model/values';
import { PasidAllocator } from './allocator';

const ORIGIN_CODES: Record<PasidOrigin, number> = { local: 0, global: 1, real: 2 };
const ORIGINS: PasidOrigin[] = ['local', 'global', 'real'];

export interface PasidOwner {
  slot: number;
  ioasid: number;
  origin: PasidOrigin;
}

/**
 * The host PASID allocator plus, for each allocated PASID, which fd slot and ioasid hold it
 * and whether it is global or real. Typed arrays keep a million owners in a few megabytes.
 */
export class PasidSpace {
  readonly allocator: PasidAllocator;
  private readonly ownerSlot: Int32Array;
  private readonly ownerIoasid: Int32Array;
  private readonly ownerOrigin: Uint8Array;

  constructor(pasidBits: number) {
    const size = 2 ** pasidBits;
    this.allocator = new PasidAllocator(size);
    this.ownerSlot = new Int32Array(size);
    this.ownerIoasid = new Int32Array(size);
    this.ownerOrigin = new Uint8Array(size);
  }

  get size(): number {
    return this.allocator.size;
  }

  /** Throws RangeError when the PASID is out of range or already allocated. */
  take(pasid: number, owner: PasidOwner): void {
    this.allocator.reserve(pasid);
    this.ownerSlot[pasid] = owner.slot;
    this.ownerIoasid[pasid] = owner.ioasid;
    this.ownerOrigin[pasid] = ORIGIN_CODES[owner.origin];
  }

  give(pasid: number): void {
    this.allocator.release(pasid);
    this.ownerSlot[pasid] = 0;
    this.ownerIoasid[pasid] = 0;
  }

  /** Each allocated PASID with its owner, ascending, without building owner objects. */
  forEachOwned(visit: (pasid: number, slot: number, ioasid: number, origin: PasidOrigin) => void): void {
    this.allocator.forEachUsed((pasid) => visit(pasid, this.ownerSlot[pasid]!, this.ownerIoasid[pasid]!, ORIGINS[this.ownerOrigin[pasid]!]!));
  }

  ownerOf(pasid: number): PasidOwner | undefined {
    if (!this.allocator.isUsed(pasid) || pasid === 0) return undefined;
    return { slot: this.ownerSlot[pasid]!, ioasid: this.ownerIoasid[pasid]!, origin: ORIGINS[this.ownerOrigin[pasid]!]! };
  }

  isOwnedBy(pasid: number, slot: number, ioasid: number, origin: PasidOrigin): boolean {
    return (
      pasid > 0 &&
      pasid < this.size &&
      this.allocator.isUsed(pasid) &&
      this.ownerSlot[pasid] === slot &&
      this.ownerIoasid[pasid] === ioasid &&
      this.ownerOrigin[pasid] === ORIGIN_CODES[origin]
    );
  }
}
