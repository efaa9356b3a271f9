export * from './readiness';
export * from './observability.module';
export * from './observability.controller';
export * from './metrics';
export { Counter, Gauge, Histogram, register as metricsRegistry } from 'prom-client';
