export * from './create-database';
export * from './migrate';
export * from './pool';
export * from './transaction';
