import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';

/** How the client proves who it is and protects its traffic; absent = PLAINTEXT (development only). */
export interface KafkaSecurityOptions {
  /** TLS: `true` trusts Node's CAs, `{ ca }` the given PEM certificates. */
  ssl?: boolean | { ca: string[] };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export interface KafkaConnectionOptions extends KafkaSecurityOptions {
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
export function createKafka({ clientId, brokers, logger, ssl, sasl }: KafkaConnectionOptions): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    ...(ssl ? { ssl } : {}),
    // kafkajs types SASL as one object type per mechanism; ours is the same set written as one object.
    ...(sasl ? { sasl: { ...sasl } as SASLOptions } : {}),
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

/** What a log line may say about a connection: the protocol and the user, never the password. */
export function describeKafkaSecurity({ ssl, sasl }: KafkaSecurityOptions): { protocol: string; mechanism?: string; username?: string } {
  const protocol = `${sasl ? 'SASL_' : ''}${ssl ? 'SSL' : 'PLAINTEXT'}`;
  return sasl ? { protocol, mechanism: sasl.mechanism, username: sasl.username } : { protocol };
}
