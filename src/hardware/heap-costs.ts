/**
 * Heap bytes of the V8 building blocks of the per-fd tables (Node 20, 64-bit, measured as
 * bench:domain measures: heap with 20,000 of them alive minus heap without), for the estimates
 * the host caches count (footprint.ts).
 */

/** A typed array's object, its ArrayBuffer and backing-store record, beside its data. */
export const TYPED_ARRAY_BYTES = 200;

/** An empty Map. */
export const MAP_BYTES = 184;

/** One number -> number entry of a Map, with the slack of a table that doubles. */
export const MAP_ENTRY_BYTES = 56;

/** A small class instance of a few fields. */
export const OBJECT_BYTES = 64;

/** The heap of a typed array of `length` 32-bit words (nothing for the shared empty one). */
export function int32ArrayBytes(length: number): number {
  return length === 0 ? 0 : TYPED_ARRAY_BYTES + 4 * length;
}
