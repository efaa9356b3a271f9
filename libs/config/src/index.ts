export * from './load-config';
export * from './kafka-env';
