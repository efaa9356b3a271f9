import { AppError } from '@export/errors';
import type { z } from 'zod';

/** `mapping.custom[0].field` style path of a zod issue, the way API clients name fields. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === 'number') return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, '');
}

const NUL = '\u0000';

/** True when a string can be stored as PostgreSQL text, which cannot hold NUL (0x00) characters. */
export const hasNoNul = (value: string): boolean => !value.includes(NUL);

/**
 * Where the first NUL character is in a value (depth first, in key order): the path of the string holding
 * it, or of the object whose key holds it. Walks without recursion, so no input is too deep for it.
 */
export function findNul(value: unknown): { path: (string | number)[]; inKey: boolean } | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop() as { value: unknown; path: (string | number)[] };
    if (typeof current === 'string') {
      if (!hasNoNul(current)) return { path, inKey: false };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i -= 1) stack.push({ value: current[i], path: [...path, i] });
    } else if (current !== null && typeof current === 'object') {
      const keys = Object.keys(current);
      if (keys.some((key) => !hasNoNul(key))) return { path, inKey: true };
      for (let i = keys.length - 1; i >= 0; i -= 1)
        stack.push({ value: (current as Record<string, unknown>)[keys[i]], path: [...path, keys[i]] });
    }
  }
  return undefined;
}

/**
 * Parses request input; the first issue becomes a 400 naming the field at fault. What the schema keeps must
 * also be storable: a NUL character in any string or key of it is a 400 naming the field, here at the edge,
 * rather than a database error (PostgreSQL refuses NUL in text with 22021, in jsonb with 22P05).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) {
    const nul = findNul(result.data);
    if (nul) {
      const field = fieldPath(nul.path);
      const problem = nul.inKey ? 'keys must not contain NUL characters' : 'must not contain NUL characters';
      throw new AppError('validation', field ? `${field}: ${problem}` : problem, field ? { field } : {});
    }
    return result.data;
  }
  const issue = result.error.issues[0];
  const field = fieldPath(issue.path);
  throw new AppError(
    'validation',
    field ? `${field}: ${issue.message}` : issue.message,
    field ? { field } : {},
  );
}
