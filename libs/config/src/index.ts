export * from './load-config';
export * from './snapshot-env';
export * from './kafka-env';
export * from './service-config';
