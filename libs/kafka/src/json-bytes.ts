/** Characters JSON.stringify writes as they are, one byte each in UTF-8: printable ASCII but `"` and `\`. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * `Buffer.byteLength(JSON.stringify(value))` without building the text: what a value weighs in a message, for
 * sizing batches row by row (a string per row is garbage the collector pays for). For JSON data: strings,
 * finite numbers, booleans, null, arrays and plain objects (keys whose value is undefined are left out, as
 * JSON.stringify does); a string outside printable ASCII is measured through JSON.stringify itself.
 */
export function jsonByteLength(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let bytes = 1 + Math.max(value.length, 1);
        for (const item of value) bytes += item === undefined ? 4 : jsonByteLength(item);
        return bytes;
      }
      let bytes = 2;
      let members = 0;
      for (const key in value) {
        const item: unknown = (value as Record<string, unknown>)[key];
        if (item === undefined || !Object.hasOwn(value, key)) continue;
        bytes += stringBytes(key) + 1 + jsonByteLength(item);
        members++;
      }
      return members > 1 ? bytes + members - 1 : bytes;
    }
    default:
      return Buffer.byteLength(JSON.stringify(value) ?? '');
  }
}

function stringBytes(text: string): number {
  return PLAIN_ASCII.test(text) ? text.length + 2 : Buffer.byteLength(JSON.stringify(text));
}
