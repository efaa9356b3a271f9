import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import { describeIoError, snapshotError, snapshotErrorCode } from './snapshot-error';
import type { ReadSnapshotOptions, SnapshotRecord } from './snapshot-record';

const LINE_BREAK = /\r\n|\r|\n/g;
const LEADING_LINE_BREAKS = /^(?:\r\n|\r|\n)*/;

export interface CsvPartition {
  file: string;
  /** Partition name reported with every row. */
  partition: string;
  /** Column names in file order, or 'header' when the first record names them. */
  columns: readonly string[] | 'header';
}

/**
 * Streams the records of one CSV file (RFC 4180 quoting, CRLF or LF, optional byte-order mark). The caller
 * pulls: csv-parse and the file stream pause while it does not, so a file of any size stays out of memory.
 * A record with the wrong number of columns is yielded as a rejection; broken quoting fails the whole file.
 */
export async function* readCsvPartition(
  source: CsvPartition,
  options: ReadSnapshotOptions = {},
): AsyncGenerator<SnapshotRecord> {
  const { file, partition } = source;
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw snapshotError(
      'SNAPSHOT_UNREADABLE',
      file,
      `Cannot read partition ${file}: ${describeIoError(error)}`,
      error,
    );
  });
  const parser = parse({
    bom: true,
    // Rows with a wrong column count are rejected here, one by one, with their line number.
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    // raw: csv-parse counts a CRLF inside a quoted field as two lines, so lines are counted from the raw text.
    raw: true,
  });
  pipeline(
    handle.createReadStream({ highWaterMark: options.chunkSize ?? 64 * 1024 }),
    parser,
    () => undefined,
  );

  let columns = source.columns === 'header' ? undefined : source.columns;
  let linesBefore = 0;
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      options.signal?.throwIfAborted();
      const line = linesBefore + (LEADING_LINE_BREAKS.exec(raw)?.[0].match(LINE_BREAK)?.length ?? 0) + 1;
      linesBefore += raw.match(LINE_BREAK)?.length ?? 0;
      if (record.length === 1 && record[0] === '') continue; // blank line
      if (!columns) {
        columns = headerOf(record, file);
        continue;
      }
      if (record.length !== columns.length) {
        yield {
          kind: 'rejected',
          partition,
          line,
          reason: `expected ${columns.length} columns, found ${record.length}`,
        };
        continue;
      }
      const names = columns;
      yield {
        kind: 'row',
        partition,
        line,
        values: Object.fromEntries(record.map((v, i) => [names[i], v === '' ? null : v])),
      };
    }
  } catch (error) {
    if (options.signal?.aborted || snapshotErrorCode(error)) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('CSV_')) {
      throw snapshotError(
        'INVALID_SNAPSHOT',
        file,
        `Cannot parse ${file}: ${(error as Error).message}`,
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
  }
}

function headerOf(record: string[], file: string): string[] {
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
      `Invalid header in ${file}: column "${duplicate}" appears twice`,
    );
  return names;
}
