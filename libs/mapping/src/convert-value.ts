import type { CustomFieldType } from '@export/contracts';
import { assertNever } from '@export/errors';
import { z } from 'zod';

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);
const ISO_DATE = z.iso.date();
const ISO_DATE_TIME = z.iso.datetime({ offset: true, local: true });
const HAS_OFFSET = /(?:Z|[+-]\d{2}:\d{2})$/i;

export type Converted = { ok: true; value: string | number | boolean } | { ok: false; problem: string };

/**
 * Converts a trimmed, non-empty text value to the Autopilot custom-field type. Returns the problem (for a
 * rejection reason) instead of guessing: "12.5" is no integer, "soon" is no date.
 */
export function convertValue(text: string, type: CustomFieldType): Converted {
  switch (type) {
    case 'string':
      return { ok: true, value: text };
    case 'integer': {
      const value = Number(text);
      return INTEGER.test(text) && Number.isSafeInteger(value)
        ? { ok: true, value }
        : { ok: false, problem: 'not an integer' };
    }
    case 'float': {
      const value = Number(text);
      return FLOAT.test(text) && Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, problem: 'not a number' };
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true };
      if (FALSE.has(lower)) return { ok: true, value: false };
      return { ok: false, problem: 'not a boolean (true/false, yes/no, 1/0)' };
    }
    case 'date':
      return toIsoDate(text);
    default:
      return assertNever(type);
  }
}

/** ISO dates stay dates; date-times become UTC ISO-8601 (a time without an offset is read as UTC). */
function toIsoDate(text: string): Converted {
  if (ISO_DATE.safeParse(text).success) return { ok: true, value: text };
  // Exports often write "2026-11-28 08:00:00" for a date-time.
  const candidate = /^\d{4}-\d{2}-\d{2} \d/.test(text) ? text.replace(' ', 'T') : text;
  if (!ISO_DATE_TIME.safeParse(candidate).success)
    return { ok: false, problem: 'not an ISO-8601 date or date-time' };
  const instant = new Date(HAS_OFFSET.test(candidate) ? candidate : `${candidate}Z`);
  return { ok: true, value: instant.toISOString() };
}
