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
  /** The previous chunk ended with a CR (a CRLF split across chunks counts once). */
  private endedWithCR = false;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out: Buffer[] = [];
    let start = 0;
    // Only quotes and line breaks matter: jump from one to the next (indexOf is native and fast).
    let quote = chunk.indexOf(QUOTE);
    let cr = chunk.indexOf(CR);
    let lf = chunk.indexOf(LF);
    let i = -1;
    for (;;) {
      if (quote !== -1 && quote <= i) quote = chunk.indexOf(QUOTE, i + 1);
      if (cr !== -1 && cr <= i) cr = chunk.indexOf(CR, i + 1);
      if (lf !== -1 && lf <= i) lf = chunk.indexOf(LF, i + 1);
      i = nearest(quote, cr, lf);
      if (i === -1) break;
      const b = chunk[i];
      if (b === QUOTE) {
        this.inQuotes = !this.inQuotes;
        continue;
      }
      if (this.inQuotes) {
        const afterCR = b === LF && (i > 0 ? chunk[i - 1] === CR : this.endedWithCR);
        if (!afterCR) this.breaks++;
        continue;
      }
      // A line break outside quotes ends the record; the terminator is kept as it was.
      if (this.dropping || this.pendingBytes + (i - start) > this.maxBytes) {
        out.push(this.marker(), chunk.subarray(i, i + 1));
      } else {
        out.push(...this.pending, chunk.subarray(start, i + 1));
      }
      this.dropping = false;
      this.pending = [];
      this.pendingBytes = 0;
      this.breaks = 0;
      start = i + 1;
    }
    this.endedWithCR = chunk.length > 0 && chunk[chunk.length - 1] === CR;
    if (!this.dropping) {
      const rest = chunk.length - start;
      if (this.pendingBytes + rest > this.maxBytes) {
        // Over the cap and not ended yet: discard what is held and whatever follows, up to its end.
        this.dropping = true;
        this.pending = [];
        this.pendingBytes = 0;
      } else if (rest > 0) {
        // A copy: the stream may reuse its buffers, and a slice would keep the whole chunk alive.
        this.pending.push(Buffer.from(chunk.subarray(start)));
        this.pendingBytes += rest;
      }
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

/** The smallest of the positions that are not -1, or -1. */
function nearest(a: number, b: number, c: number): number {
  let min = -1;
  for (const v of [a, b, c]) if (v !== -1 && (min === -1 || v < min)) min = v;
  return min;
}
