/** One profile row of a snapshot, with where it came from (partition and the line where it starts, from 1). */
export interface SnapshotRow {
  kind: 'row';
  partition: string;
  line: number;
  values: Record<string, string | null>;
}

/** A row that could not be read (wrong column count, bad JSON line); the rest of the snapshot goes on. */
export interface SnapshotRejection {
  kind: 'rejected';
  partition: string;
  line: number;
  reason: string;
}

export type SnapshotRecord = SnapshotRow | SnapshotRejection;

export interface ReadSnapshotOptions {
  /** Stops reading between rows when aborted (the iteration then throws the abort reason). */
  signal?: AbortSignal;
  /** Bytes read from disk at a time. */
  chunkSize?: number;
}
