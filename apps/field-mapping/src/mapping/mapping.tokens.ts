export const MAPPING_SETTINGS = Symbol('MAPPING_SETTINGS');
export const MAPPING_LOGGER = Symbol('MAPPING_LOGGER');

export interface MappingSettings {
  groupId: string;
  partitionsConcurrency: number;
}
