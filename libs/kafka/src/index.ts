export * from './kafka-client';
export * from './event-publisher';
export * from './topic-consumer';
export * from './kafka.module';
export * from './kafka.metrics';
export * from './trace-context';
export * from './run-cancellations';
