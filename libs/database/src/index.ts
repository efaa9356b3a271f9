export * from './create-database';
export * from './migrate';
export * from './migrate-command';
export * from './pool';
export * from './transaction';
export * from './database.module';
