import type { ValidationError } from 'class-validator';

/** One bad field of a request and why (every rule it broke). */
export interface FieldError {
  /** Dotted path into the request, e.g. `devices.1.rid`. */
  field: string;
  message: string;
}

/** class-validator's error tree, flattened to one entry per bad field (nested and array members included). */
export function fieldErrors(errors: ValidationError[], parent?: string): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent === undefined ? error.property : `${parent}.${error.property}`;
    const own: FieldError[] = error.constraints ? [{ field, message: Object.values(error.constraints).join('; ') }] : [];
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}
