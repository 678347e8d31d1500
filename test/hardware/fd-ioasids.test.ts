import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FdIoasids, ioasidEntry } from '../../src/hardware/fd-ioasids';
import { Journal } from '../../src/hardware/journal';
import { MAX_IOASID } from '../../src/model/values';

/** Ids as the decider hands them out (small, dense), a few far above them (imports, odd events), and the largest. */
const id = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 200 }), weight: 6 },
  { arbitrary: fc.integer({ min: 1, max: 5000 }), weight: 2 },
  { arbitrary: fc.integer({ min: 1, max: MAX_IOASID }), weight: 1 },
  { arbitrary: fc.constant(MAX_IOASID), weight: 1 },
);
const pasid = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: (1 << 20) - 1 }));

type Op =
  | { kind: 'set'; id: number; pasid: number; hostPasid: number }
  | { kind: 'delete'; id: number }
  | { kind: 'fill'; from: number; count: number }
  | { kind: 'drain'; pick: number; count: number; stride: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('set' as const), id, pasid, hostPasid: pasid }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), id }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('fill' as const), from: id, count: fc.integer({ min: 1, max: 600 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('drain' as const), pick: fc.nat(), count: fc.integer({ min: 1, max: 600 }), stride: fc.integer({ min: 1, max: 3 }) }), weight: 1 },
);

type Model = Map<number, [number, number]>;

function play(table: FdIoasids, model: Model, ops: Op[], apply: { set(id: number, entry: number): void; delete(id: number): void }): void {
  const set = (i: number, p: number, h: number) => {
    apply.set(i, ioasidEntry(p, h));
    model.set(i, [p, h]);
  };
  for (const o of ops) {
    switch (o.kind) {
      case 'set':
        set(o.id, o.pasid, o.hostPasid);
        break;
      case 'delete':
        apply.delete(o.id);
        model.delete(o.id);
        break;
      case 'fill':
        for (let i = o.from; i < o.from + o.count && i <= MAX_IOASID; i++) set(i, i & 0xfffff, (i * 7) & 0xfffff);
        break;
      case 'drain': {
        const ids = [...model.keys()].sort((a, b) => a - b);
        const gone = ids.slice(o.pick % Math.max(1, ids.length)).filter((_, j) => j % o.stride === 0).slice(0, o.count);
        for (const i of gone) {
          apply.delete(i);
          model.delete(i);
        }
        break;
      }
      default: {
        const _: never = o;
        throw new Error(`unknown op ${JSON.stringify(_)}`);
      }
    }
    if ('id' in o) {
      assert.equal(table.pasidOf(o.id), model.get(o.id)?.[0]);
      assert.equal(table.hostPasidOf(o.id), model.get(o.id)?.[1]);
    }
    assert.equal(table.size, model.size);
  }
}

/** Same ids, PASIDs and size as the model, visited by ascending id. */
function assertSame(table: FdIoasids, model: Model): void {
  const expected = [...model].sort((a, b) => a[0] - b[0]).map(([i, [p, h]]) => [i, p, h]);
  const visited: number[][] = [];
  table.forEach((i, p, h) => visited.push([i, p, h]));
  assert.deepEqual(visited, expected);
  assert.deepEqual([...table.keys()], expected.map(([i]) => i));
  for (const [i, p, h] of expected) {
    assert.equal(table.get(i!), ioasidEntry(p!, h!));
    assert.equal(table.has(i!), true);
  }
  assert.equal(table.size, model.size);
  // It costs what it holds: the dense array is at least 1/8 full, or small.
  const capacity = (table as unknown as { dense: Int32Array }).dense.length / 2;
  assert.ok(capacity <= Math.max(64, 8 * table.size), `capacity ${capacity} for ${table.size} ioasids`);
}

describe('FdIoasids against a Map', () => {
  it('answers as a Map of ioasid -> PASIDs does, and visits ids in ascending order, after random sets and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(id, { maxLength: 20 }), (ops, probes) => {
        const table = new FdIoasids();
        const model: Model = new Map();
        play(table, model, ops, { set: (i, e) => table.set(i, e), delete: (i) => assert.equal(table.delete(i), model.has(i)) });
        assertSame(table, model);
        for (const i of [...probes, 0, -1, 1.5, MAX_IOASID + 1, Number.NaN]) assert.equal(table.has(i), model.has(i));
      }),
      { numRuns: 300 },
    );
  });

  it('is put back exactly by the journal that recorded a batch of changes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.array(op, { maxLength: 20 }), (before, batch) => {
        const table = new FdIoasids();
        const model: Model = new Map();
        play(table, model, before, { set: (i, e) => table.set(i, e), delete: (i) => table.delete(i) });
        const kept: Model = new Map(model);
        const journal = new Journal();
        play(table, model, batch, { set: (i, e) => journal.mapSet(table, i, e), delete: (i) => journal.mapDelete(table, i) });
        journal.rollback();
        assertSame(table, kept);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses ids outside [1, MAX_IOASID]', () => {
    const table = new FdIoasids();
    for (const bad of [0, -1, 1.5, MAX_IOASID + 1]) assert.throws(() => table.set(bad, ioasidEntry(0, 0)), RangeError);
    assert.equal(table.size, 0);
  });
});
