import { pipeline, type Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { CsvRecordGuard, OVERSIZED_RECORD } from './bounded-records';
import { openConfined } from './confined-file';
import { safeName } from './safe-text';
import { describeIoError, snapshotError, snapshotErrorCode } from './snapshot-error';
import {
  DEFAULT_SNAPSHOT_LIMITS,
  type ReadSnapshotOptions,
  type SnapshotRecord,
  type SnapshotScope,
} from './snapshot-record';

const CR = 13;
const LF = 10;

export interface CsvPartition {
  /** The location as the event or model.json names it. */
  location: string;
  /** model.json's path, for partition locations relative to it. */
  relativeTo?: string;
  /** Partition name reported with every row. */
  partition: string;
  /** Column names in file order, or 'header' when the first record names them. */
  columns: readonly string[] | 'header';
}

/**
 * Streams the records of one CSV file (RFC 4180 quoting, CRLF or LF, optional byte-order mark), in file order,
 * a chunk at a time: the records csv-parse made of what was read so far (up to a read of the file). The caller
 * pulls: csv-parse and the file stream pause while it does not, so a file of any size stays out of memory.
 * A record with the wrong number of columns or over the record cap is yielded as a rejection; broken quoting
 * fails the whole file, and so does a header with more columns than the cap. The file is opened only after
 * the checks of `openConfined`; reasons and errors never quote its content (at most a column name).
 */
export async function* readCsvPartition(
  scope: SnapshotScope,
  source: CsvPartition,
  options: ReadSnapshotOptions = {},
): AsyncGenerator<SnapshotRecord[]> {
  const { partition } = source;
  const limits = { ...DEFAULT_SNAPSHOT_LIMITS, ...options.limits };
  const opened = await openConfined(scope, source.location, limits.maxFileBytes, source.relativeTo);
  const file = opened.name;
  const parser = parse({
    bom: true,
    // Rows with a wrong column count are rejected here, one by one, with their line number.
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    // raw: csv-parse counts a CRLF inside a quoted field as two lines, so lines are counted from the raw text.
    raw: true,
    // A backstop only: the guard in front already replaced longer records (csv-parse counts characters,
    // never more than bytes). Should it fire anyway, the file fails: csv-parse cannot resume after it.
    max_record_size: limits.maxRecordBytes + 64,
  });
  const input = opened.stream(options.chunkSize ?? 64 * 1024);
  pipeline(input, new CsvRecordGuard(limits.maxRecordBytes), parser, () => undefined);

  let columns = source.columns === 'header' ? undefined : source.columns;
  let linesBefore = 0;
  try {
    for await (const parsed of bufferedRecords<{ record: string[]; raw: string }>(parser)) {
      options.signal?.throwIfAborted();
      const records: SnapshotRecord[] = [];
      for (const { record, raw } of parsed) {
        const breaks = lineBreaks(raw);
        const line = linesBefore + breaks.leading + 1;
        linesBefore += breaks.total;
        if (record.length === 1 && record[0] === '') continue; // blank line
        if (record.length === 1 && record[0].startsWith(OVERSIZED_RECORD)) {
          if (!columns) {
            throw snapshotError('SNAPSHOT_TOO_LARGE', file, `Refused ${file}: the header is over ${limits.maxRecordBytes} bytes`);
          }
          records.push({ kind: 'rejected', partition, line, reason: `record over ${limits.maxRecordBytes} bytes` });
          continue;
        }
        if (!columns) {
          columns = headerOf(record, file, limits.maxColumns);
          continue;
        }
        if (record.length !== columns.length) {
          records.push({
            kind: 'rejected',
            partition,
            line,
            reason: `expected ${columns.length} columns, found ${record.length}`,
          });
          continue;
        }
        const names = columns;
        records.push({
          kind: 'row',
          partition,
          line,
          values: Object.fromEntries(record.map((v, i) => [names[i], v === '' ? null : v])),
        });
      }
      if (records.length > 0) yield records;
    }
  } catch (error) {
    if (options.signal?.aborted || snapshotErrorCode(error)) throw error;
    if (error instanceof CsvError) {
      const code = error.code;
      // csv-parse's messages quote the field at fault: only its code and line go into ours.
      const near = (error as { lines?: unknown }).lines;
      throw snapshotError(
        'INVALID_SNAPSHOT',
        file,
        `Cannot parse ${file}: ${code}${typeof near === 'number' ? ` near line ${near}` : ''}`,
        error,
      );
    }
    throw snapshotError(
      'SNAPSHOT_UNREADABLE',
      file,
      `Cannot read partition ${file}: ${describeIoError(error)}`,
      error,
    );
  } finally {
    parser.destroy();
    input.destroy();
    await opened.close();
  }
}

/**
 * What a stream holds, all of it at each step, instead of one object per step as its async iterator gives:
 * one promise per chunk of records rather than several per record. Ends when the stream ends, throws its
 * error.
 */
async function* bufferedRecords<T>(stream: Readable): AsyncGenerator<T[]> {
  for (;;) {
    const items: T[] = [];
    for (let item = stream.read() as T | null; item !== null; item = stream.read() as T | null) items.push(item);
    if (items.length > 0) {
      yield items;
      continue;
    }
    if (stream.errored) throw stream.errored;
    if (stream.readableEnded || stream.destroyed) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown) => {
        stream.off('readable', settle);
        stream.off('end', settle);
        stream.off('close', settle);
        stream.off('error', settle);
        if (error) reject(error);
        else resolve();
      };
      stream.on('readable', settle);
      stream.on('end', settle);
      stream.on('close', settle);
      stream.on('error', settle);
    });
  }
}

/**
 * Line breaks (CRLF, CR or LF, each one break) in a record's raw text, and how many of them come before its
 * first other character. csv-parse counts a CRLF inside a quoted field as two lines, hence this count.
 */
function lineBreaks(raw: string): { leading: number; total: number } {
  let leading = 0;
  let total = 0;
  let content = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === CR || c === LF) {
      if (c === CR && raw.charCodeAt(i + 1) === LF) i++;
      total++;
      if (!content) leading++;
    } else content = true;
  }
  return { leading, total };
}

function headerOf(record: string[], file: string, maxColumns: number): string[] {
  if (record.length > maxColumns)
    throw snapshotError(
      'SNAPSHOT_TOO_MANY_COLUMNS',
      file,
      `Refused ${file}: ${record.length} columns in the header, over the cap of ${maxColumns}`,
    );
  const names = record.map((name) => name.trim());
  const blank = names.findIndex((name) => name === '');
  if (blank >= 0)
    throw snapshotError(
      'INVALID_SNAPSHOT',
      file,
      `Invalid header in ${file}: column ${blank + 1} has no name`,
    );
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate)
    throw snapshotError(
      'INVALID_SNAPSHOT',
      file,
      `Invalid header in ${file}: column ${safeName(duplicate)} appears twice`,
    );
  return names;
}
