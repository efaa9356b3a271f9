export { mapProfile, customFieldKey, MAX_VALUE_BYTES, type MapResult } from './map-profile';
