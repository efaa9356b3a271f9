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
  /** Stops reading between chunks of rows when aborted (the iteration then throws the abort reason). */
  signal?: AbortSignal;
  /** Bytes read from disk at a time. */
  chunkSize?: number;
  /** Caps (DEFAULT_SNAPSHOT_LIMITS for what is not given). */
  limits?: Partial<SnapshotLimits>;
}

/** Whose snapshot this is: every file read must be a regular file inside `<root>/<tenantId>/`. */
export interface SnapshotScope {
  /** SNAPSHOT_ROOT: the folder that holds one folder per tenant. */
  root: string;
  tenantId: string;
}

/** Caps on what one snapshot may make the reader do; over a file cap the run fails, over a row cap the row is rejected. */
export interface SnapshotLimits {
  /** Largest partition, CSV or JSONL file, in bytes. */
  maxFileBytes: number;
  /** Largest model.json, in bytes (it is parsed whole). */
  maxModelBytes: number;
  /** Longest CSV record (its raw bytes, quotes and embedded line breaks included) or JSONL line, in bytes. */
  maxRecordBytes: number;
  /** Most columns of a CSV header, of a model.json entity, or keys of a JSONL object. */
  maxColumns: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = {
  maxFileBytes: 10 * 1024 ** 3,
  maxModelBytes: 16 * 1024 ** 2,
  maxRecordBytes: 1024 ** 2,
  maxColumns: 1000,
};
