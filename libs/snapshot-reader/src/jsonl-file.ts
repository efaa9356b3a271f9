import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { describeIoError, snapshotError } from './snapshot-error';
import type { ReadSnapshotOptions, SnapshotRecord } from './snapshot-record';

/**
 * Streams a JSON Lines file: one JSON object per line. A line that is not a JSON object is a rejection;
 * blank lines are skipped. readline's async iterator pauses the file while the caller does not pull.
 */
export async function* readJsonlFile(
  file: string,
  options: ReadSnapshotOptions = {},
): AsyncGenerator<SnapshotRecord> {
  const partition = basename(file);
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw snapshotError('SNAPSHOT_UNREADABLE', file, `Cannot read ${file}: ${describeIoError(error)}`, error);
  });
  const input = handle.createReadStream({ encoding: 'utf8', highWaterMark: options.chunkSize ?? 64 * 1024 });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let readError: unknown;
  input.once('error', (error) => {
    readError = error;
    lines.close();
  });
  let line = 0;
  try {
    for await (const text of lines) {
      options.signal?.throwIfAborted();
      line++;
      const content = line === 1 ? text.replace(/^\uFEFF/, '') : text;
      if (content.trim() === '') continue;
      const parsed = parseObject(content);
      yield typeof parsed === 'string'
        ? { kind: 'rejected', partition, line, reason: parsed }
        : { kind: 'row', partition, line, values: parsed };
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (readError)
    throw snapshotError(
      'SNAPSHOT_UNREADABLE',
      file,
      `Cannot read ${file}: ${describeIoError(readError)}`,
      readError,
    );
}

/** The row's values, or the reason the line is not a usable JSON object. */
function parseObject(text: string): Record<string, string | null> | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `invalid JSON: ${(error as Error).message}`.slice(0, 300);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'expected a JSON object';
  return Object.fromEntries(Object.entries(json).map(([key, value]) => [key, stringValue(value)]));
}

function stringValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
