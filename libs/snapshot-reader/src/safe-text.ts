import { storableText } from '@export/errors';

const UNSAFE = /[^\x20-\x7e]/g;

/**
 * A name taken from a file (a column, an attribute, an entity) as it may appear in an error: printable
 * ASCII only (anything else becomes `?`), at most `max` characters, quoted.
 */
export function safeName(name: string, max = 64): string {
  const clean = name.replace(UNSAFE, '?');
  return JSON.stringify(clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`);
}

/** Longest partition name passed on with rows (contracts: TEXT_LIMITS.partition is 300). */
const MAX_PARTITION_NAME = 255;
// eslint-disable-next-line no-control-regex -- replacing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A partition's name as rows and rejections carry it (a model.json partition name or a file name): control
 * characters (NUL among them, which PostgreSQL cannot store) become `?`, unpaired surrogates U+FFFD, at most
 * 255 characters. Unlike
 * `safeName` it keeps non-ASCII letters: the name is the tenant's own, shown to the tenant.
 */
export function partitionLabel(name: string): string {
  const clean = storableText(name.replace(CONTROL, '?'));
  return clean.length <= MAX_PARTITION_NAME ? clean : `${storableText(clean, MAX_PARTITION_NAME - 1)}…`;
}

/** A location (from an event or a model.json) as errors show it: printable ASCII, at most `max` characters. */
export function safeLocation(location: string, max = 300): string {
  const clean = location.replace(UNSAFE, '?');
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}
