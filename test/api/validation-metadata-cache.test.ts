import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { IsInt, IsString, Max, Min, getMetadataStorage, validateSync } from 'class-validator';
import { memoizeValidationMetadata } from '../../src/api/validation/metadata-cache';

class Point {
  @IsInt()
  x!: unknown;
}

class Base {
  @IsInt()
  a!: unknown;
}

class Child extends Base {
  @IsString()
  b!: unknown;
}

class Grouped {
  @IsInt({ groups: ['one'] })
  @IsString({ groups: ['two'] })
  x!: unknown;
}

const failing = (errors: ReturnType<typeof validateSync>) => errors.map((e) => `${e.property}:${Object.keys(e.constraints ?? {}).sort().join(',')}`).sort();
const of = <T extends object>(type: new () => T, fields: Record<string, unknown>): T => Object.assign(new type(), fields);

/** The memo in front of class-validator's metadata lookups answers as the lookups do, and forgets when a rule is added. */
describe('validation metadata cache', () => {
  const storage = getMetadataStorage();
  before(() => memoizeValidationMetadata());

  it('answers a class’s rules from the cache: the same array and grouping every time', () => {
    const first = storage.getTargetValidationMetadatas(Point, '', false, false);
    assert.equal(storage.getTargetValidationMetadatas(Point, '', false, false), first);
    assert.equal(storage.groupByPropertyName(first), storage.groupByPropertyName(first));
    assert.deepEqual(failing(validateSync(of(Point, { x: 'a' }))), ['x:isInt']);
    assert.deepEqual(failing(validateSync(of(Point, { x: 1 }))), []);
  });

  it('applies a rule added after the class was validated (the cache is dropped)', () => {
    assert.deepEqual(failing(validateSync(of(Point, { x: -1 }))), []);
    Min(0)(Point.prototype, 'x');
    assert.deepEqual(failing(validateSync(of(Point, { x: -1 }))), ['x:min']);
  });

  it('keeps inherited rules, including one added to the parent after the child was validated', () => {
    assert.deepEqual(failing(validateSync(of(Child, { a: 'no', b: 2 }))), ['a:isInt', 'b:isString']);
    assert.deepEqual(failing(validateSync(of(Child, { a: 9, b: 'ok' }))), []);
    Max(5)(Base.prototype, 'a');
    assert.deepEqual(failing(validateSync(of(Child, { a: 9, b: 'ok' }))), ['a:max']);
  });

  it('keeps one answer per set of groups', () => {
    const value = of(Grouped, { x: 'text' });
    assert.deepEqual(failing(validateSync(value, { groups: ['one'] })), ['x:isInt']);
    assert.deepEqual(failing(validateSync(value, { groups: ['two'] })), []);
    assert.deepEqual(failing(validateSync(value, { groups: ['one'] })), ['x:isInt']);
  });

  it('installs once per storage', () => {
    const lookup = storage.getTargetValidationMetadatas;
    memoizeValidationMetadata();
    assert.equal(storage.getTargetValidationMetadatas, lookup);
  });
});
