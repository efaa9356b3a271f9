import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** One line of a JSON Lines file, or the line number of one over the cap (its bytes were discarded). */
export type BoundedLine = { line: number; text: Buffer } | { line: number; tooLong: true };

/**
 * Splits a byte stream at LF (a CR before it is dropped) without ever holding more than `maxBytes` of one
 * line: a longer line is discarded as it streams, up to its end, and reported by number. Lines are numbered
 * from 1.
 */
export async function* boundedLines(source: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<BoundedLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let dropping = false;
  let line = 1;
  const take = (tail: Buffer): Buffer => {
    const all = pending.length ? Buffer.concat([...pending, tail]) : tail;
    pending = [];
    pendingBytes = 0;
    return all.length && all[all.length - 1] === CR ? all.subarray(0, all.length - 1) : all;
  };
  for await (const chunk of source) {
    let from = 0;
    for (;;) {
      const end = chunk.indexOf(LF, from);
      if (end < 0) break;
      if (dropping || pendingBytes + (end - from) > maxBytes + 1) {
        pending = [];
        pendingBytes = 0;
        dropping = false;
        yield { line, tooLong: true };
      } else {
        yield { line, text: take(chunk.subarray(from, end)) };
      }
      line++;
      from = end + 1;
    }
    if (dropping) continue;
    const rest = chunk.length - from;
    if (pendingBytes + rest > maxBytes + 1) {
      // +1: a CR that turns out to end the line does not count towards it.
      dropping = true;
      pending = [];
      pendingBytes = 0;
    } else if (rest > 0) {
      // A copy: the stream may reuse its buffers, and a slice would keep the whole chunk alive.
      pending.push(Buffer.from(chunk.subarray(from)));
      pendingBytes += rest;
    }
  }
  if (dropping) yield { line, tooLong: true };
  else if (pendingBytes > 0) yield { line, text: take(Buffer.alloc(0)) };
}

/** Marks where an over-long CSV record was: its only field starts with this (NULs never start a real field). */
export const OVERSIZED_RECORD = '\u0000record-over-cap\u0000';

/**
 * Sits between a CSV file and csv-parse and keeps every record under `maxBytes`: a record that grows past
 * the cap is discarded as it streams, up to its end (a line break outside quotes, RFC 4180), and replaced by
 * one quoted field `OVERSIZED_RECORD` holding as many line breaks as the record had, so csv-parse reports it
 * as one record at the same line and the lines after it keep their numbers. csv-parse itself cannot resume
 * after its own `max_record_size` error (it stops the file), hence this guard in front of it.
 *
 * Quotes are tracked the RFC 4180 way (every `"` toggles; a doubled quote toggles twice). With broken
 * quoting the guard may cut at the wrong place, but csv-parse then fails the file on the quoting anyway.
 */
export class CsvRecordGuard extends Transform {
  private inQuotes = false;
  private dropping = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Line breaks inside quotes in the current record (CRLF counts once). */
  private breaks = 0;
  private prevCR = false;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === QUOTE) {
        this.inQuotes = !this.inQuotes;
        this.prevCR = false;
      } else if (b === CR || b === LF) {
        if (!this.inQuotes) {
          // The record ends here; the terminator is kept as it was.
          if (this.dropping) {
            out.push(this.marker(), chunk.subarray(i, i + 1));
            this.dropping = false;
          } else {
            out.push(...this.pending, chunk.subarray(start, i + 1));
          }
          this.pending = [];
          this.pendingBytes = 0;
          this.breaks = 0;
          this.prevCR = false;
          start = i + 1;
          continue;
        }
        if (!(b === LF && this.prevCR)) this.breaks++;
        this.prevCR = b === CR;
      } else {
        this.prevCR = false;
      }
      if (!this.dropping && this.pendingBytes + (i + 1 - start) > this.maxBytes) {
        this.dropping = true;
        this.pending = [];
        this.pendingBytes = 0;
      }
    }
    if (!this.dropping && start < chunk.length) {
      this.pending.push(Buffer.from(chunk.subarray(start)));
      this.pendingBytes += chunk.length - start;
    }
    if (out.length) this.push(Buffer.concat(out));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.dropping) this.push(this.marker());
    else if (this.pending.length) this.push(Buffer.concat(this.pending));
    callback();
  }

  private marker(): Buffer {
    return Buffer.from(`"${OVERSIZED_RECORD}${'\n'.repeat(this.breaks)}"`);
  }
}
