import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LineSplitter, type LineBatch } from '../../src/replay/ndjson-lines';

/** Every (line number, text) a splitter finds in `text` cut into the given chunks. */
function split(text: string, cuts: number[]): Array<[number, string]> {
  const bytes = Buffer.from(text);
  const splitter = new LineSplitter();
  const found: Array<[number, string]> = [];
  const collect = (b: LineBatch) => b.starts.forEach((s, i) => found.push([b.lineNumbers[i]!, b.bytes.toString('utf8', s, b.ends[i])]));
  let from = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    collect(splitter.push(bytes.subarray(from, cut)));
    from = cut;
  }
  collect(splitter.push(bytes.subarray(from)));
  collect(splitter.end());
  return found;
}

describe('NDJSON line splitter', () => {
  it('numbers lines, skips blank ones, accepts CRLF and a last line without newline', () => {
    assert.deepEqual(split('{"a":1}\n\n  \r\n{"b":"é"}\r\n{"c":3}', []), [
      [1, '{"a":1}'],
      [4, '{"b":"é"}'],
      [5, '{"c":3}'],
    ]);
  });

  it('finds the same lines wherever the chunks are cut, even inside a UTF-8 character', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ''));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (lines, cuts) => {
        const text = lines.map((l) => `${l}\n`).join('');
        // Blank means spaces, tabs and CRs only: anything else is a line (and a JSON error if not JSON).
        const expected = lines.map((l, i) => [i + 1, l] as [number, string]).filter(([, l]) => !/^[ \t\r]*$/.test(l));
        assert.deepEqual(split(text, cuts), expected);
      }),
      { numRuns: 500 },
    );
  });
});
