import type { PasidOwner, PasidSpace } from './pasid-space';

/** What the journal can set and delete entries of: a Map, or a table with a Map's get/set/delete (IntMap, FdIoasids). */
export interface UndoableMap<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
  delete(key: K): unknown;
}

const MAP_SET = 0;
const MAP_DELETE = 1;
const ASSIGN = 2;
const PASID = 3;

/**
 * Undo log of one event's application: every mutation records how to take it back, so an
 * event that breaks an invariant half-way leaves the hardware exactly as it was.
 * Records go into parallel arrays that are reused from event to event (overwritten, never
 * shrunk): replaying a million events allocates no undo closures and no new journal arrays.
 */
export class Journal {
  private readonly ops: number[] = [];
  private readonly targets: unknown[] = [];
  private readonly keys: unknown[] = [];
  private readonly values: unknown[] = [];
  private size = 0;

  private push(op: number, target: unknown, key: unknown, value: unknown): void {
    const i = this.size++;
    this.ops[i] = op;
    this.targets[i] = target;
    this.keys[i] = key;
    this.values[i] = value;
  }

  /** A PASID taken (owner undefined: undo gives it back) or given back (undo takes it again for `owner`). */
  record(space: PasidSpace, pasid: number, owner: PasidOwner | undefined): void {
    this.push(PASID, space, pasid, owner);
  }

  /** Sets an entry (the maps here never hold undefined values). */
  mapSet<K, V>(map: UndoableMap<K, V>, key: K, value: V): void {
    const previous = map.get(key);
    if (previous === undefined) this.push(MAP_DELETE, map, key, undefined);
    else this.push(MAP_SET, map, key, previous);
    map.set(key, value);
  }

  /** Adds a key the caller knows is absent (saves the lookup of mapSet). */
  mapInsert<K, V>(map: UndoableMap<K, V>, key: K, value: V): void {
    this.push(MAP_DELETE, map, key, undefined);
    map.set(key, value);
  }

  mapDelete<K, V>(map: UndoableMap<K, V>, key: K): void {
    const previous = map.get(key);
    if (previous === undefined) return;
    this.push(MAP_SET, map, key, previous);
    map.delete(key);
  }

  assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): void {
    this.push(ASSIGN, target, key, target[key]);
    target[key] = value;
  }

  /** Adds `delta` to a counter kept in a map (a key whose count reaches 0 is removed). */
  count<K>(map: Map<K, number>, key: K, delta: number): number {
    const next = (map.get(key) ?? 0) + delta;
    if (next === 0) this.mapDelete(map, key);
    else this.mapSet(map, key, next);
    return next;
  }

  /** Forgets the records: the event is applied for good. */
  commit(): void {
    this.size = 0;
  }

  rollback(): void {
    for (let i = this.size - 1; i >= 0; i--) {
      const target = this.targets[i];
      const key = this.keys[i];
      switch (this.ops[i]) {
        case MAP_SET:
          (target as UndoableMap<unknown, unknown>).set(key, this.values[i]);
          break;
        case MAP_DELETE:
          (target as UndoableMap<unknown, unknown>).delete(key);
          break;
        case ASSIGN:
          (target as Record<PropertyKey, unknown>)[key as PropertyKey] = this.values[i];
          break;
        default: {
          const owner = this.values[i] as PasidOwner | undefined;
          if (owner) (target as PasidSpace).take(key as number, owner);
          else (target as PasidSpace).give(key as number);
        }
      }
    }
    this.commit();
  }
}
