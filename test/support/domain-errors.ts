import { DomainError } from '../../src/model/errors';

/** For assert.rejects / assert.throws: a DomainError with this code. */
export const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;
