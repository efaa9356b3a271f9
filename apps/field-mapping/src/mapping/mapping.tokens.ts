export const MAPPING_SETTINGS = Symbol('MAPPING_SETTINGS');
export const MAPPING_LOGGER = Symbol('MAPPING_LOGGER');

export interface MappingSettings {
  /** Most bytes of one contacts-mapped message (MAPPED_BATCH_MAX_BYTES): larger batches are split into parts. */
  maxBatchBytes: number;
}
