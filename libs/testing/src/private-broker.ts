import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_TOPICS } from '@export/contracts';
import { expectEventually } from './eventually';
import { freePort, testKafka, type TestKafkaConnection } from './kafka';
import { WORKSPACE_ROOT } from './service-process';

/** How the broker listens (tools/kafka/kafka.sh KAFKA_SECURITY). */
export type BrokerSecurity = 'plaintext' | 'sasl' | 'sasl_ssl';

export interface PrivateBroker {
  /** `127.0.0.1:<port>`, the same across stop() and start(). */
  brokers: string[];
  /** Its data folder: kafka.sh writes the SASL users' credentials and the TLS CA there. */
  dataDir: string;
  /** Starts it (again, on the same ports and data) with the topics of tools/kafka/topics.txt. */
  start(): void;
  stop(): void;
  /** Stops it and removes its data (credentials included). */
  destroy(): void;
}

/**
 * A Kafka broker of one test file alone (tools/kafka/kafka.sh): free ports, its own data folder, the
 * project's topics, started before it resolves. Stopping or restarting it disturbs no other test, and the
 * shared broker is never touched. Wait for `brokerAnswers` before producing to fresh topics.
 */
export async function startPrivateBroker(security: BrokerSecurity = 'plaintext'): Promise<PrivateBroker> {
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `kafka-${security}-`));
  const env = {
    ...process.env,
    KAFKA_SECURITY: security,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
  };
  const kafka = (...args: string[]) => {
    const result = spawnSync('bash', [join(WORKSPACE_ROOT, 'tools/kafka/kafka.sh'), ...args], {
      cwd: WORKSPACE_ROOT,
      env,
      encoding: 'utf8',
      timeout: 180_000,
    });
    if (result.status !== 0) throw new Error(`kafka.sh ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  const broker: PrivateBroker = {
    brokers: [`127.0.0.1:${port}`],
    dataDir,
    start: () => {
      kafka('start');
      kafka('create-topics', join(WORKSPACE_ROOT, 'tools/kafka/topics.txt'));
    },
    stop: () => kafka('stop'),
    destroy: () => {
      try {
        kafka('stop');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
  try {
    broker.start();
  } catch (error) {
    broker.destroy();
    throw error;
  }
  return broker;
}

/**
 * Resolves once every topic's partitions have a leader that answers `connection` (a fresh broker elects them
 * a moment after the topics are created); rejects after `timeoutMs`.
 */
export async function brokerAnswers(connection: TestKafkaConnection, timeoutMs = 30_000): Promise<void> {
  await expectEventually(
    async () => {
      const admin = testKafka('broker-probe', connection).admin();
      try {
        await admin.connect();
        for (const topic of ALL_TOPICS) await admin.fetchTopicOffsets(topic.name);
        return true;
      } catch {
        return false;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    { timeoutMs, message: `broker ${connection.brokers.join(',')} answering for every topic` },
  );
}
