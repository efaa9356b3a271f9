export * from './service-token';
