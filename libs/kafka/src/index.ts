export * from './kafka-client';
export * from './event-publisher';
export * from './topic-consumer';
export * from './kafka.module';
