export { mapProfile, customFieldKey, type MapResult } from './map-profile';
