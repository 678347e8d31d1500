import fc from 'fast-check';

/** A field of a request message, as proto-loader describes it. */
export interface FieldInfo {
  name: string;
  number: number;
  type: string;
}

const WIRE_OF_TYPE: Record<string, number> = {
  TYPE_INT32: 0, TYPE_INT64: 0, TYPE_UINT32: 0, TYPE_UINT64: 0, TYPE_BOOL: 0, TYPE_ENUM: 0, TYPE_SINT32: 0, TYPE_SINT64: 0,
  TYPE_FIXED64: 1, TYPE_DOUBLE: 1, TYPE_SFIXED64: 1,
  TYPE_STRING: 2, TYPE_BYTES: 2, TYPE_MESSAGE: 2,
  TYPE_FIXED32: 5, TYPE_FLOAT: 5, TYPE_SFIXED32: 5,
};

function varint(value: bigint): Buffer {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return Buffer.from(out);
}

function tag(field: number, wire: number): Buffer {
  return varint((BigInt(field) << 3n) | BigInt(wire));
}

/** Values a varint field should not hold: negative, over int32, 64-bit extremes. */
const hostileVarint = fc.oneof(
  fc.constantFrom(0n, 1n, -1n, 2n ** 31n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 1048576n, 5n),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);

/** Payloads of a length-delimited field: text, invalid UTF-8, control bytes, a real id, garbage. */
function hostileBytes(realIds: string[]): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.constantFrom(...realIds, '', ' ', '0000:3b:00.1', 'global', 'local', 'vf', 'siov', '0x200000', 'x'.repeat(5000)).map((s) => Buffer.from(s)),
    fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    fc.constantFrom([0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x00], [0x1b, 0x5b, 0x33, 0x31, 0x6d]).map((a) => Buffer.from(a)),
  );
}

/**
 * A protobuf-encoded request of the right field numbers with hostile values, wrong wire types,
 * unknown fields, lying lengths and truncation: what a buggy or malicious client could send.
 */
export function hostileMessage(fields: FieldInfo[], realIds: string[]): fc.Arbitrary<Buffer> {
  const entry = fc
    .record({
      field: fields.length ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: fc.constant(undefined) }) : fc.constant(undefined),
      unknownNumber: fc.integer({ min: 1, max: 2 ** 29 - 1 }),
      wrongWire: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7) }),
      number: hostileVarint,
      bytes: hostileBytes(realIds),
      lie: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 1 << 20 }) }),
      fixed: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    })
    .map(({ field, unknownNumber, wrongWire, number, bytes, lie, fixed }) => {
      const fieldNumber = field?.number ?? unknownNumber;
      const wire = wrongWire ?? (field ? WIRE_OF_TYPE[field.type] ?? 2 : 2);
      switch (wire) {
        case 0:
          return Buffer.concat([tag(fieldNumber, 0), varint(number)]);
        case 1:
          return Buffer.concat([tag(fieldNumber, 1), Buffer.from(fixed)]);
        case 5:
          return Buffer.concat([tag(fieldNumber, 5), Buffer.from(fixed.subarray(0, 4))]);
        case 2:
          return Buffer.concat([tag(fieldNumber, 2), varint(BigInt(bytes.length + lie)), bytes]);
        default:
          // Groups (3, 4) and the invalid wire types 6 and 7.
          return Buffer.concat([tag(fieldNumber, wire), bytes]);
      }
    });
  return fc
    .tuple(fc.array(entry, { maxLength: 8 }), fc.nat({ max: 3 }))
    .map(([entries, cut]) => {
      const message = Buffer.concat(entries);
      return cut === 0 && message.length > 1 ? message.subarray(0, message.length - 1) : message;
    });
}
