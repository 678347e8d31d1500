import { configure } from 'safe-stable-stringify';

const stringify = configure({ deterministic: true, bigint: false, circularValue: TypeError });

/**
 * JSON with object keys sorted at every depth and `undefined` members dropped, so the
 * same value always gives the same bytes whatever order its keys were built in.
 * The basis of every hash in the product (event chain, hardware state).
 */
export function canonicalJson(value: unknown): string {
  const out = stringify(value);
  if (out === undefined) throw new TypeError('value has no JSON form');
  return out;
}
