import { basename } from 'node:path';
import { boundedLines } from './bounded-records';
import { openConfined } from './confined-file';
import { partitionLabel, safeName } from './safe-text';
import { describeIoError, snapshotError, snapshotErrorCode } from './snapshot-error';
import {
  DEFAULT_SNAPSHOT_LIMITS,
  type ReadSnapshotOptions,
  type SnapshotRecord,
  type SnapshotScope,
} from './snapshot-record';

/**
 * Deepest nesting of a value within a JSONL object (the object itself is level 1). Nested values are passed
 * on as their JSON text, and JSON.stringify recurses: a few thousand levels (10 KB of `[`) overflow the stack
 * with a RangeError, which used to fail the whole run as an unreadable file.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Streams a JSON Lines file: one JSON object per line. A line that is not a JSON object, is longer than the
 * record cap, has more keys than the column cap or nests deeper than MAX_JSON_DEPTH is a rejection (whose
 * reason never quotes the line, at most a key);
 * blank lines are skipped. The file is opened only after the checks of `openConfined`. The caller pulls:
 * the file is read only as fast as it does.
 */
export async function* readJsonlFile(
  scope: SnapshotScope,
  location: string,
  options: ReadSnapshotOptions = {},
): AsyncGenerator<SnapshotRecord> {
  const limits = { ...DEFAULT_SNAPSHOT_LIMITS, ...options.limits };
  const file = await openConfined(scope, location, limits.maxFileBytes);
  const partition = partitionLabel(basename(file.name));
  const input = file.stream(options.chunkSize ?? 64 * 1024);
  try {
    for await (const next of boundedLines(input, limits.maxRecordBytes)) {
      options.signal?.throwIfAborted();
      const { line } = next;
      if ('tooLong' in next) {
        yield { kind: 'rejected', partition, line, reason: `line over ${limits.maxRecordBytes} bytes` };
        continue;
      }
      const raw = next.text.toString('utf8');
      const content = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (content.trim() === '') continue;
      const parsed = parseObject(content, limits.maxColumns);
      yield typeof parsed === 'string'
        ? { kind: 'rejected', partition, line, reason: parsed }
        : { kind: 'row', partition, line, values: parsed };
    }
  } catch (error) {
    if (options.signal?.aborted || snapshotErrorCode(error)) throw error;
    throw snapshotError('SNAPSHOT_UNREADABLE', file.name, `Cannot read ${file.name}: ${describeIoError(error)}`, error);
  } finally {
    input.destroy();
    await file.close();
  }
}

/** The row's values, or the reason the line is not a usable JSON object (never the line's text). */
function parseObject(text: string, maxKeys: number): Record<string, string | null> | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the line: it stays out of the reason.
    return 'invalid JSON';
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'expected a JSON object';
  const entries = Object.entries(json);
  if (entries.length > maxKeys) return `more than ${maxKeys} keys`;
  const deep = entries.find(([, value]) => nestedDeeperThan(value, MAX_JSON_DEPTH - 1));
  if (deep) return `value of ${safeName(deep[0])} nested deeper than ${MAX_JSON_DEPTH} levels`;
  return Object.fromEntries(entries.map(([key, value]) => [key, stringValue(value)]));
}

/** True when `value` holds objects or arrays more than `max` levels deep. Iterative: no stack to overflow. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
  }
  return false;
}

function stringValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
