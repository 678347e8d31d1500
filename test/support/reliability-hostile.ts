import fc from 'fast-check';
import { Client } from 'pg';
import type { RawRequest } from './reliability-raw-http';
import { paramsOf, pathOf, type RouteSpec } from './reliability-routes';

/** Values of the wrong type, size, sign or shape for any JSON field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    -1, 0, 0.5, -0.5, 1e308, -1e308, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53 + 2, Number.MIN_SAFE_INTEGER, 5e-324, 1e21,
    '1', '0x10', '1e3', '', ' ', 'true', 'null', null, true, false, [], {}, [1], { a: 1 },
    '\u0000', '\u202e', '\ud800', '\u001b[31m', 'é', '../../etc', '<script>', "'; DROP TABLE events; --",
  ),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => ({ raw: n.toString() })),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.string({ maxLength: 5000, minLength: 300 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** JSON text of a value, where `{raw}` stands for digits no JS number can hold. */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && 'raw' in v ? `__RAW${(v as { raw: string }).raw}__` : v)).replace(
    /"__RAW(-?\d+)__"/g,
    '$1',
  );
}

/** A route's valid body with one field broken, removed, or joined by an unknown or prototype-polluting one. */
function mutatedBody(route: RouteSpec): fc.Arbitrary<string> {
  const base = route.body ?? {};
  const fields = Object.keys(base);
  const polluting = fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString');
  return fc.oneof(
    ...(fields.length ? [fc.tuple(fc.constantFrom(...fields), hostileValue).map(([f, v]) => jsonText({ ...base, [f]: v }))] : []),
    ...(fields.length ? [fc.constantFrom(...fields).map((f) => jsonText(Object.fromEntries(Object.entries(base).filter(([k]) => k !== f))))] : []),
    fc.tuple(fc.oneof(polluting, fc.string({ minLength: 1, maxLength: 20 })), hostileValue).map(([k, v]) => {
      const text = jsonText(base);
      const extra = `${JSON.stringify(k)}:${jsonText(v) ?? 'null'}`;
      return text === '{}' ? `{${extra}}` : `${text.slice(0, -1)},${extra}}`;
    }),
    // Nested fields (quotas, devices) broken one level down.
    fc.tuple(hostileValue, hostileValue).map(([a, b]) => jsonText({ ...base, quotas: { maxFds: a, maxHostPasids: b }, devices: [{ rid: a, kind: b, pasidBits: a }] })),
  );
}

function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Body bytes: mutated, arbitrary, malformed, deeply nested, oversized or not UTF-8. */
export function hostileBody(route: RouteSpec): fc.Arbitrary<Buffer | undefined> {
  const text = fc.oneof(
    { weight: 6, arbitrary: mutatedBody(route) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => jsonText(v) ?? 'null') },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{"a":', "{'a':1}", '{"a":1}}', 'NaN', '[1,]', '{"a":1 /* c */}', '\ufeff{}', 'null', '"str"', '12') },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(100, 1_000, 20_000), fc.constantFrom<'array' | 'object'>('array', 'object')).map(([d, k]) => nested(d, k)) },
    { weight: 1, arbitrary: mutatedBody(route).map((t) => t.slice(0, Math.max(1, Math.floor(t.length / 2)))) },
  );
  return fc.oneof(
    { weight: 12, arbitrary: text.map((t) => Buffer.from(t, 'utf8')) },
    { weight: 2, arbitrary: fc.constant(undefined) },
    // Invalid UTF-8 inside a JSON string: a lone continuation byte, an overlong form, a surrogate, 0xff.
    {
      weight: 2,
      arbitrary: fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe], [0xc3, 0x28]).map((bad) =>
        Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bad), Buffer.from('","hostId":"h'), Buffer.from(bad), Buffer.from('"}')]),
      ),
    },
    // Just over and far over the body limit (256 kB).
    { weight: 1, arbitrary: fc.constantFrom(300_000, 1_048_576).map((n) => Buffer.from(jsonText({ ...(route.body ?? {}), pad: 'x'.repeat(n) }))) },
  );
}

/** A path segment of any shape, raw (percent-escapes and all), or one of the route's real ids. */
export function hostileSegment(valid: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: valid.length ? fc.constantFrom(...valid) : fc.constant('x') },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '0', '-1', '1.5', '1e3', '0x1f', '00001', '9'.repeat(400), '2147483648', '-0', 'NaN', 'Infinity',
        '%', '%zz', '%ff', '%c3%28', '%00', '%0a', '..', '.', '%2e%2e', '%2F', 'a;b', '*', '~', 'x'.repeat(5000),
        '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '0000:3b:00.1', '0000:3B:00.9',
      ),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: fc.double().map(String).map(encodeURIComponent) },
  );
}

/** A query string of known and unknown keys, repeated keys and qs bracket syntax. */
export function hostileQuery(route: RouteSpec): fc.Arbitrary<string> {
  const keys = [...(route.query ?? []), 'x', '__proto__', 'constructor'];
  const key = fc.oneof(fc.constantFrom(...keys), fc.constantFrom(...keys).map((k) => `${k}[a]`), fc.constantFrom(...keys).map((k) => `${k}[]`));
  const value = fc.oneof(hostileSegment([]), fc.constantFrom('', '1', '10', '1000', '1001', 'HwidSet'));
  return fc.array(fc.tuple(key, value), { maxLength: 5 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
}

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zz',
  'application/xml',
  '',
];

export interface Credentials {
  operator: string;
  tenant: string;
}

/** One hostile request at `route`, as raw bytes, with whoever's credentials (or garbage). */
export function hostileRequest(route: RouteSpec, ids: Record<string, string[]>, creds: Credentials): fc.Arbitrary<RawRequest> {
  const params = paramsOf(route);
  const segments = fc.tuple(...params.map((p) => hostileSegment(ids[p] ?? []))) as fc.Arbitrary<string[]>;
  const auth = fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${route.operatorOnly ? creds.operator : creds.tenant}`) },
    { weight: 2, arbitrary: fc.constant(`Bearer ${route.operatorOnly ? creds.tenant : creds.operator}`) },
    { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ${'t'.repeat(10_000)}`, 'Bearer a b', `bearer ${creds.tenant}x`) },
  );
  const contentType = fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 8 });
  const idempotencyKey = fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', 'k'.repeat(256), 'ключ')), { nil: undefined, freq: 2 });
  return fc
    .record({ segments, query: hostileQuery(route), auth, body: hostileBody(route), contentType, idempotencyKey })
    .map(({ segments: values, query, auth: authorization, body, contentType: type, idempotencyKey: key }) => {
      const path = pathOf(route, Object.fromEntries(params.map((p, i) => [p, values[i]])));
      const headers: Array<[string, string]> = [];
      if (authorization !== '') headers.push(['Authorization', authorization]);
      // '' sends no Content-Type at all; unset means the usual JSON one.
      if (body !== undefined && type !== '') headers.push(['Content-Type', type ?? 'application/json']);
      // Header values travel as latin1: non-latin1 keys are sent as their UTF-8 bytes.
      if (key !== undefined) headers.push(['Idempotency-Key', Buffer.from(key, 'utf8').toString('latin1')]);
      const request: RawRequest = { method: route.method, target: `${path}${query}`, headers, body };
      // Counterexamples stay readable: a 1 MB body is shown by its size and first bytes.
      return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
    });
}

export function describeRequest(req: RawRequest): string {
  const clip = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}...(${s.length} chars)` : s);
  const body = req.body ? ` body(${req.body.length} bytes)=${JSON.stringify(clip(req.body.toString('latin1')))}` : '';
  return `${req.method} ${clip(String(req.target))} headers=${clip(JSON.stringify(req.headers))}${body}`;
}

/** Row counts of every table a command writes: a rejected request must leave them all as they were. */
export async function writtenRows(db: Client): Promise<Record<string, number>> {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM tenants)::int AS tenants,
            (SELECT count(*) FROM hosts)::int AS hosts, (SELECT count(*) FROM fd_directory)::int AS fds,
            (SELECT count(*) FROM idempotency)::int AS idempotency, (SELECT count(*) FROM migrations)::int AS migrations`,
  );
  return rows[0] as Record<string, number>;
}
