import type { z } from 'zod';

/** A zod error as one message per form field (`mapping.email`, `custom.0.field`), the first issue of each. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.');
    if (!(key in out)) out[key] = issue.message;
  }
  return out;
}
