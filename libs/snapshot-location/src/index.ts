export * from './snapshot-location';
