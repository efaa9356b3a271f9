import { createKafka } from '@export/kafka';
import { checkKafkaEnv, kafkaEnv, kafkaSecurity, loadConfig } from '@export/config';
import { Partitioners } from 'kafkajs';
import pino from 'pino';
import { z } from 'zod';

/** Publishes one message and says where it landed. */
export interface EventPublisher {
  publish(
    topic: string,
    message: { key: string; value: string },
  ): Promise<{ partition: number; offset: string }>;
  close(): Promise<void>;
}

// The services' own Kafka security settings (KAFKA_SSL, KAFKA_SSL_CA, KAFKA_SASL_*), read the same way.
const securityEnv = z
  .object({ NODE_ENV: z.string().optional(), ...kafkaEnv })
  .superRefine((env, ctx) => checkKafkaEnv(env, ctx));

/**
 * A producer on the given brokers with the TLS/SASL settings of the environment, as the services connect.
 * Invalid settings throw a ConfigError naming the variables (never their values).
 */
export function kafkaEventPublisher(brokers: string[], env: NodeJS.ProcessEnv = process.env): EventPublisher {
  const { ssl, sasl } = kafkaSecurity(loadConfig('export-cli', securityEnv, env));
  const kafka = createKafka({
    clientId: 'export-cli',
    brokers,
    ssl,
    sasl,
    logger: pino({ level: env['LOG_LEVEL'] ?? 'error' }),
  });
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let connecting: Promise<void> | undefined;
  return {
    async publish(topic, { key, value }) {
      connecting ??= producer.connect();
      await connecting;
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value }] });
      return { partition: meta?.partition ?? -1, offset: meta?.baseOffset ?? '?' };
    },
    async close() {
      if (connecting) await producer.disconnect();
    },
  };
}
