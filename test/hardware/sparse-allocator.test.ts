import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PasidAllocator } from '../../src/hardware/allocator';
import { PasidSpace, type PasidOwner } from '../../src/hardware/pasid-space';
import type { PasidOrigin } from '../../src/model/values';

/** The reference: a set of used ids and a linear walk up from the start of the range. */
class ReferenceAllocator {
  readonly used = new Set<number>();
  constructor(readonly size: number) {}
  lowestFree(min: number, max: number): number | undefined {
    let id = Math.max(1, Math.floor(min));
    while (this.used.has(id)) id++;
    return id < Math.min(max, this.size) ? id : undefined;
  }
}

/** Ids cluster around page (1,024 ids) and summary (32 pages) boundaries, where a paged allocator can go wrong. */
const BASES = [0, 1024, 2048, 31 * 1024, 32 * 1024, 33 * 1024, 1023 * 1024];
const id = fc.tuple(fc.constantFrom(...BASES), fc.integer({ min: -40, max: 1100 })).map(([b, o]) => Math.max(0, b + o));

type Op =
  | { kind: 'alloc'; min: number; span: number }
  | { kind: 'fill'; min: number; count: number }
  | { kind: 'release'; pick: number }
  | { kind: 'releaseRun'; pick: number; count: number }
  | { kind: 'reserve'; id: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('alloc' as const), min: id, span: fc.integer({ min: 0, max: 1 << 20 }) }),
  fc.record({ kind: fc.constant('fill' as const), min: id, count: fc.integer({ min: 1, max: 2100 }) }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('releaseRun' as const), pick: fc.nat(), count: fc.integer({ min: 1, max: 1100 }) }),
  fc.record({ kind: fc.constant('reserve' as const), id }),
);

describe('PasidAllocator (paged) against a reference model', () => {
  it('decides exactly as the reference on random sequences across page and summary boundaries', () => {
    fc.assert(
      fc.property(fc.constantFrom(1 << 20, 1 << 16, 3000, 1025, 33), fc.array(op, { maxLength: 60 }), (size, ops) => {
        const real = new PasidAllocator(size);
        const model = new ReferenceAllocator(size);
        const allocOne = (min: number, max: number) => {
          const expected = model.lowestFree(min, max);
          assert.equal(real.lowestFree(min, max), expected);
          assert.equal(real.alloc(min, max), expected);
          if (expected !== undefined) model.used.add(expected);
        };
        for (const o of ops) {
          switch (o.kind) {
            case 'alloc':
              allocOne(o.min, o.min + o.span);
              break;
            case 'fill':
              for (let i = 0; i < o.count; i++) allocOne(o.min, size);
              break;
            case 'release':
            case 'releaseRun': {
              const ids = [...model.used].sort((a, b) => a - b);
              const count = o.kind === 'release' ? 1 : o.count;
              for (const gone of ids.slice(o.pick % Math.max(1, ids.length)).slice(0, count)) {
                real.release(gone);
                model.used.delete(gone);
              }
              break;
            }
            case 'reserve': {
              if (o.id >= 1 && o.id < size && !model.used.has(o.id)) {
                real.reserve(o.id);
                model.used.add(o.id);
              } else {
                assert.throws(() => real.reserve(o.id), RangeError);
              }
              break;
            }
            default: {
              const _: never = o;
              throw new Error(`unknown op ${JSON.stringify(_)}`);
            }
          }
          assert.equal(real.used, model.used.size);
        }
        assert.deepEqual(real.usedIds(), [...model.used].sort((a, b) => a - b));
        for (const probe of [0, 1, 1023, 1024, 32767, 32768, size - 1, size]) assert.equal(real.isUsed(probe), model.used.has(probe) && probe > 0 && probe < size);
      }),
      { numRuns: 300 },
    );
  });

  it('finds the next page with room past 32 full pages and reuses a page emptied and dropped', () => {
    const size = 1 << 20;
    const a = new PasidAllocator(size);
    for (let i = 1; i < 40 * 1024; i++) assert.equal(a.alloc(1, size), i);
    assert.equal(a.lowestFree(5, size), 40 * 1024);
    a.release(33 * 1024 + 7);
    assert.equal(a.lowestFree(1, size), 33 * 1024 + 7);
    assert.equal(a.lowestFree(33 * 1024 + 8, size), 40 * 1024);
    for (let i = 1024; i < 2048; i++) a.release(i);
    assert.equal(a.lowestFree(1, size), 1024);
    assert.equal(a.alloc(1500, size), 1500);
    assert.equal(a.used, 40 * 1024 - 1 - 1 - 1024 + 1);
  });
});

describe('PasidSpace owners (paged)', () => {
  it('keeps each PASID owner as a dense table would, through takes and gives', () => {
    const owner = fc.record({
      slot: fc.integer({ min: 0, max: (1 << 29) - 1 }),
      ioasid: fc.integer({ min: 1, max: 0x7fffffff }),
      origin: fc.constantFrom<PasidOrigin>('local', 'global', 'real'),
    });
    const step = fc.oneof(fc.record({ take: id, owner }), fc.record({ give: fc.nat() }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const space = new PasidSpace(20);
        const model = new Map<number, PasidOwner>();
        for (const s of steps) {
          if ('take' in s) {
            if (s.take === 0 || s.take >= space.size || model.has(s.take)) {
              if (s.take !== 0 && s.take < space.size) assert.throws(() => space.take(s.take, s.owner), /already allocated/);
              continue;
            }
            space.take(s.take, s.owner);
            model.set(s.take, { ...s.owner });
          } else {
            const held = [...model.keys()];
            if (held.length === 0) continue;
            const pasid = held[s.give % held.length]!;
            space.give(pasid);
            model.delete(pasid);
          }
        }
        const seen: Array<[number, PasidOwner]> = [];
        space.forEachOwned((pasid, slot, ioasid, origin) => seen.push([pasid, { slot, ioasid, origin }]));
        assert.deepEqual(seen, [...model.entries()].sort((a, b) => a[0] - b[0]));
        for (const [pasid, o] of model) {
          assert.deepEqual(space.ownerOf(pasid), o);
          assert.equal(space.isOwnedBy(pasid, o.slot, o.ioasid, o.origin), true);
          assert.equal(space.isOwnedBy(pasid, o.slot + 1, o.ioasid, o.origin), false);
        }
      }),
      { numRuns: 200 },
    );
  });
});
