export * from './app-error';
export * from './failure-class';
