import type { ExtractedRow } from '@export/contracts';
import { jsonByteLength } from '@export/kafka';

export interface BatchLimits {
  maxRows: number;
  /** Budget for the JSON of the rows of one batch (the run spec around them is extra). */
  maxBytes: number;
}

/**
 * Groups rows into batches that close at `maxRows` rows or before `maxBytes` of row JSON, whichever comes
 * first. The cut depends only on the rows and the limits, so re-reading a snapshot gives identical batches.
 */
export class BatchBuilder {
  private rows: ExtractedRow[] = [];
  private bytes = 0;

  constructor(private readonly limits: BatchLimits) {}

  /** Adds a row; returns the batch that had to close to make room for it, if any. */
  add(row: ExtractedRow): ExtractedRow[] | undefined {
    // +1 for the comma between rows in the array.
    const size = jsonByteLength(row) + 1;
    const full =
      this.rows.length >= this.limits.maxRows ||
      (this.rows.length > 0 && this.bytes + size > this.limits.maxBytes);
    const closed = full ? this.take() : undefined;
    this.rows.push(row);
    this.bytes += size;
    return closed;
  }

  /** The rows not yet in a closed batch (empty when there are none). */
  flush(): ExtractedRow[] {
    return this.take();
  }

  private take(): ExtractedRow[] {
    const rows = this.rows;
    this.rows = [];
    this.bytes = 0;
    return rows;
  }
}
