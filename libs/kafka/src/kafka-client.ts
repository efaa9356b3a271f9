import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaConnectionOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** The one place that builds a kafkajs client, so the client library can be replaced behind this lib. */
export function createKafka({ clientId, brokers, logger }: KafkaConnectionOptions): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: { message, ...extra } }: LogEntry) => {
        // kafkajs logs a broker error for every retried request; keep them at debug unless they are final.
        const target = levels[level] ?? 'info';
        log[target]({ ...extra }, message);
      },
  });
}
