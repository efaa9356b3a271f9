const UNSAFE = /[^\x20-\x7e]/g;

/**
 * A name taken from a file (a column, an attribute, an entity) as it may appear in an error: printable
 * ASCII only (anything else becomes `?`), at most `max` characters, quoted.
 */
export function safeName(name: string, max = 64): string {
  const clean = name.replace(UNSAFE, '?');
  return JSON.stringify(clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`);
}

/** A location (from an event or a model.json) as errors show it: printable ASCII, at most `max` characters. */
export function safeLocation(location: string, max = 300): string {
  const clean = location.replace(UNSAFE, '?');
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}
