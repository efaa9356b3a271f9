export const EXTRACTION_SETTINGS = Symbol('EXTRACTION_SETTINGS');
export const EXTRACTION_LOGGER = Symbol('EXTRACTION_LOGGER');

export interface ExtractionSettings {
  groupId: string;
  partitionsConcurrency: number;
  batchRows: number;
  batchBytes: number;
  maxInFlight: number;
}
