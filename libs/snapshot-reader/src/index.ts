export { readSnapshot } from './read-snapshot';
export { snapshotErrorCode, SNAPSHOT_ERROR_CODES, type SnapshotErrorCode } from './snapshot-error';
export {
  DEFAULT_SNAPSHOT_LIMITS,
  type ReadSnapshotOptions,
  type SnapshotLimits,
  type SnapshotRecord,
  type SnapshotRejection,
  type SnapshotRow,
  type SnapshotScope,
} from './snapshot-record';
