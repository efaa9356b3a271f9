import { KafkaContainer } from '@testcontainers/kafka';
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer } from '@testcontainers/redis';
import { TOPICS } from '@export/contracts';
import { Kafka, logLevel } from 'kafkajs';
import type { InfrastructurePlan } from './infrastructure';

/** Images of the containers: Kafka 4.1 in KRaft mode (cp-kafka 8.1), the PostgreSQL and Redis of docker-compose.yml. */
export const IMAGES = {
  kafka: 'confluentinc/cp-kafka:8.1.0',
  postgres: 'postgres:16',
  redis: 'redis:7',
} as const;

export interface StartedInfrastructure {
  /** The variables that point the tests, the demo and the services at the containers. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts, with testcontainers, the resources the plan says come from a container, in parallel; Kafka gets the
 * topics of the contracts' registry (with their configs). Needs a Docker engine (see dockerAnswers).
 */
export async function startContainers(plan: InfrastructurePlan): Promise<StartedInfrastructure> {
  const stops: (() => Promise<unknown>)[] = [];
  const env: Record<string, string> = {};
  const started = await Promise.allSettled([
    plan.kafka === 'container'
      ? (async () => {
          const kafka = await new KafkaContainer(IMAGES.kafka)
            .withKraft()
            .withEnvironment({ KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false' })
            .start();
          stops.push(() => kafka.stop());
          env['KAFKA_BROKERS'] = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
          await createTopics([env['KAFKA_BROKERS']]);
        })()
      : undefined,
    plan.postgres === 'container'
      ? (async () => {
          const pg = await new PostgreSqlContainer(IMAGES.postgres)
            .withUsername('postgres')
            .withPassword('postgres')
            .withDatabase('postgres')
            .start();
          stops.push(() => pg.stop());
          const url = (database: string) =>
            `postgres://postgres:postgres@${pg.getHost()}:${pg.getPort()}/${database}`;
          env['TEST_ADMIN_DATABASE_URL'] = url('postgres');
          env['DATABASE_URL'] = url('segment_export');
        })()
      : undefined,
    plan.redis === 'container'
      ? (async () => {
          const redis = await new RedisContainer(IMAGES.redis).start();
          stops.push(() => redis.stop());
          env['REDIS_URL'] = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
        })()
      : undefined,
  ]);
  const stop = async () => {
    await Promise.allSettled(stops.map((s) => s()));
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { env, stop };
}

/** The topics of the registry, as tools/kafka/kafka.sh create-topics and compose's kafka-topics create them. */
async function createTopics(brokers: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'testcontainers-topics', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(TOPICS).map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: 1,
        configEntries: Object.entries('config' in t ? t.config : {}).map(([name, value]) => ({
          name,
          value,
        })),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
