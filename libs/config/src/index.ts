export * from './load-config';
export * from './snapshot-env';
