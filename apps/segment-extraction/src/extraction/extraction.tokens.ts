import type { SnapshotLimits } from '@export/snapshot-reader';

export const EXTRACTION_SETTINGS = Symbol('EXTRACTION_SETTINGS');
export const EXTRACTION_LOGGER = Symbol('EXTRACTION_LOGGER');

export interface ExtractionSettings {
  /** SNAPSHOT_ROOT: runs read only `<snapshotRoot>/<run.tenantId>/`. */
  snapshotRoot: string;
  snapshotLimits: SnapshotLimits;
  batchRows: number;
  batchBytes: number;
  maxInFlight: number;
}
