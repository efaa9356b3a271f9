export { readSnapshot } from './read-snapshot';
export { snapshotErrorCode, type SnapshotErrorCode } from './snapshot-error';
export type { ReadSnapshotOptions, SnapshotRecord, SnapshotRejection, SnapshotRow } from './snapshot-record';
