import { basename } from 'node:path';
import { boundedLines } from './bounded-records';
import { openConfined } from './confined-file';
import { describeIoError, snapshotError, snapshotErrorCode } from './snapshot-error';
import {
  DEFAULT_SNAPSHOT_LIMITS,
  type ReadSnapshotOptions,
  type SnapshotRecord,
  type SnapshotScope,
} from './snapshot-record';

/**
 * Streams a JSON Lines file: one JSON object per line. A line that is not a JSON object, is longer than the
 * record cap or has more keys than the column cap is a rejection (whose reason never quotes the line);
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
  const partition = basename(file.name);
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
  return Object.fromEntries(entries.map(([key, value]) => [key, stringValue(value)]));
}

function stringValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
