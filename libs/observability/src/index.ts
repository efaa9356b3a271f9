export * from './readiness';
export * from './observability.module';
export * from './observability.controller';
export { Counter, Gauge, Histogram, register as metricsRegistry } from 'prom-client';
