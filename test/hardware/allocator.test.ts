import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PasidAllocator } from '../../src/hardware/allocator';

/** The obvious model: a set, and a linear search for the lowest free id. */
class NaiveAllocator {
  readonly used = new Set<number>();
  constructor(readonly size: number) {}
  lowestFree(min: number, max: number): number | undefined {
    for (let i = Math.max(1, min); i < Math.min(max, this.size); i++) if (!this.used.has(i)) return i;
    return undefined;
  }
}

describe('PasidAllocator', () => {
  it('hands out the lowest free id from 1 and never 0', () => {
    const a = new PasidAllocator(16);
    assert.equal(a.alloc(0, 16), 1);
    assert.equal(a.alloc(0, 16), 2);
    assert.equal(a.isUsed(0), false);
    assert.equal(a.used, 2);
    assert.equal(a.free, 13);
  });

  it('respects [min, max) and reports a full range as undefined', () => {
    const a = new PasidAllocator(64);
    assert.equal(a.alloc(40, 42), 40);
    assert.equal(a.alloc(40, 42), 41);
    assert.equal(a.alloc(40, 42), undefined);
    assert.equal(a.alloc(40, 64), 42);
    assert.equal(a.alloc(63, 100), 63);
    assert.equal(a.alloc(63, 100), undefined);
  });

  it('reuses a released id before higher ones', () => {
    const a = new PasidAllocator(1 << 10);
    for (let i = 1; i < 100; i++) assert.equal(a.alloc(1, 1 << 10), i);
    a.release(37);
    a.release(3);
    assert.equal(a.alloc(1, 1 << 10), 3);
    assert.equal(a.alloc(1, 1 << 10), 37);
    assert.equal(a.alloc(1, 1 << 10), 100);
  });

  it('refuses to reserve a used or out-of-range id and to release a free one', () => {
    const a = new PasidAllocator(32);
    a.reserve(5);
    assert.throws(() => a.reserve(5), /already allocated/);
    assert.throws(() => a.reserve(0), /outside/);
    assert.throws(() => a.reserve(32), /outside/);
    assert.throws(() => a.release(6), /not allocated/);
    assert.throws(() => a.release(0), /not allocated/);
  });

  it('fills the whole 20-bit space, crossing every summary level, then empties it', () => {
    const size = 1 << 20;
    const a = new PasidAllocator(size);
    for (let i = 1; i < size; i++) assert.equal(a.alloc(1, size), i);
    assert.equal(a.alloc(1, size), undefined);
    assert.equal(a.free, 0);
    a.release(size - 1);
    a.release(65536);
    assert.equal(a.lowestFree(1, size), 65536);
    assert.equal(a.lowestFree(65537, size), size - 1);
    for (let i = 1; i < size; i++) if (i !== size - 1 && i !== 65536) a.release(i);
    assert.equal(a.used, 0);
    assert.equal(a.alloc(1, size), 1);
  });

  it('lists the used ids in order', () => {
    const a = new PasidAllocator(256);
    for (const id of [200, 3, 31, 32, 64, 255]) a.reserve(id);
    assert.deepEqual([...a.usedIds()], [3, 31, 32, 64, 200, 255]);
  });

  it('agrees with a naive model on random operation sequences', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), min: fc.integer({ min: 0, max: 1100 }), span: fc.integer({ min: 0, max: 1100 }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('reserve' as const), id: fc.integer({ min: 0, max: 1100 }) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(2, 32, 64, 1024), fc.array(op, { maxLength: 300 }), (size, ops) => {
        const real = new PasidAllocator(size);
        const model = new NaiveAllocator(size);
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const expected = model.lowestFree(o.min, o.min + o.span);
            assert.equal(real.alloc(o.min, o.min + o.span), expected);
            if (expected !== undefined) model.used.add(expected);
          } else if (o.kind === 'release') {
            const ids = [...model.used];
            if (ids.length === 0) continue;
            const id = ids[o.pick % ids.length]!;
            real.release(id);
            model.used.delete(id);
          } else {
            const ok = o.id >= 1 && o.id < size && !model.used.has(o.id);
            if (ok) {
              real.reserve(o.id);
              model.used.add(o.id);
            } else {
              assert.throws(() => real.reserve(o.id));
            }
          }
          assert.equal(real.used, model.used.size);
          assert.equal(real.free, size - 1 - model.used.size);
        }
        assert.deepEqual([...real.usedIds()], [...model.used].sort((x, y) => x - y));
      }),
      { numRuns: 200 },
    );
  });
});
