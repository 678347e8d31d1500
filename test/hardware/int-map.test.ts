import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntMap } from '../../src/hardware/int-map';
import { Journal } from '../../src/hardware/journal';

/** Keys that run (1, 2, 3...), that collide (multiples of large powers of two), and anywhere in 31 bits. */
const key = fc.oneof(
  fc.integer({ min: 1, max: 64 }),
  fc.integer({ min: 1, max: 16 }).map((k) => k * 65536),
  fc.integer({ min: 1, max: 0x7fffffff }),
);

type Op =
  | { kind: 'set'; key: number; value: number }
  | { kind: 'delete'; key: number }
  | { kind: 'fill'; from: number; count: number }
  | { kind: 'drain'; pick: number; count: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('set' as const), key, value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), key }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('fill' as const), from: key, count: fc.integer({ min: 1, max: 300 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('drain' as const), pick: fc.nat(), count: fc.integer({ min: 1, max: 300 }) }), weight: 1 },
);

/** Runs `ops` on the map and on a Map model, asserting they answer alike after each. */
function play(map: IntMap, model: Map<number, number>, ops: Op[], apply: { set(k: number, v: number): void; delete(k: number): void }): void {
  for (const o of ops) {
    switch (o.kind) {
      case 'set':
        apply.set(o.key, o.value);
        model.set(o.key, o.value);
        break;
      case 'delete':
        apply.delete(o.key);
        model.delete(o.key);
        break;
      case 'fill':
        for (let k = o.from; k < o.from + o.count && k <= 0x7fffffff; k++) {
          apply.set(k, k ^ 0x5555);
          model.set(k, k ^ 0x5555);
        }
        break;
      case 'drain': {
        const keys = [...model.keys()].sort((a, b) => a - b);
        for (const k of keys.slice(o.pick % Math.max(1, keys.length)).slice(0, o.count)) {
          apply.delete(k);
          model.delete(k);
        }
        break;
      }
      default: {
        const _: never = o;
        throw new Error(`unknown op ${JSON.stringify(_)}`);
      }
    }
    if ('key' in o) assert.equal(map.get(o.key), model.get(o.key));
    assert.equal(map.size, model.size);
  }
}

function assertSame(map: IntMap, model: Map<number, number>): void {
  assert.deepEqual([...map.entries()].sort((a, b) => a[0] - b[0]), [...model].sort((a, b) => a[0] - b[0]));
  for (const [k, v] of model) assert.equal(map.get(k), v);
  assert.equal(map.size, model.size);
  // It costs what it holds: at least 1/4 full, or of the smallest capacity, or nothing when empty.
  const capacity = (map as unknown as { slots: Int32Array }).slots.length / 2;
  assert.ok(model.size === 0 ? capacity === 0 : capacity <= Math.max(8, 4 * model.size), `capacity ${capacity} for ${model.size} keys`);
}

describe('IntMap against a Map', () => {
  it('answers get, has and size as a Map does after random sets and deletes (runs, collisions, growth and shrinking)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(key, { maxLength: 20 }), (ops, probes) => {
        const map = new IntMap();
        const model = new Map<number, number>();
        play(map, model, ops, { set: (k, v) => map.set(k, v), delete: (k) => assert.equal(map.delete(k), model.has(k)) });
        assertSame(map, model);
        for (const k of probes) assert.equal(map.has(k), model.has(k));
        assert.equal(map.get(0), undefined, 'key 0 marks free slots: never found');
      }),
      { numRuns: 300 },
    );
  });

  it('is put back exactly by the journal that recorded a batch of changes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.array(op, { maxLength: 20 }), (before, batch) => {
        const map = new IntMap();
        const model = new Map<number, number>();
        play(map, model, before, { set: (k, v) => map.set(k, v), delete: (k) => map.delete(k) });
        const journal = new Journal();
        const kept = new Map(model);
        play(map, model, batch, { set: (k, v) => journal.mapSet(map, k, v), delete: (k) => journal.mapDelete(map, k) });
        journal.rollback();
        assertSame(map, kept);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses keys that are not positive 31-bit integers', () => {
    const map = new IntMap();
    for (const bad of [0, -1, 1.5, 2 ** 31, Number.NaN]) assert.throws(() => map.set(bad, 1), RangeError);
    assert.equal(map.size, 0);
  });
});
