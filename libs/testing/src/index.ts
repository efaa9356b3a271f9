export * from './eventually';
export * from './database';
export * from './kafka';
export * from './service-process';
export * from './stack';
export * from './api-client';
export * from './snapshots';
export * from './ready-child';
