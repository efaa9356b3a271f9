import { AppError } from '@export/errors';
import type { z } from 'zod';

/** `mapping.custom[0].field` style path of a zod issue, the way API clients name fields. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === 'number') return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, '');
}

/** Parses request input; the first issue becomes a 400 naming the field at fault. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = fieldPath(issue.path);
  throw new AppError(
    'validation',
    field ? `${field}: ${issue.message}` : issue.message,
    field ? { field } : {},
  );
}
