import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_TOPICS } from '@export/contracts';
import { Kafka, logLevel } from 'kafkajs';

/**
 * A Kafka broker of this test file alone, on its own ports and data dir, so stopping it disturbs no one
 * (the shared broker on 9092 is never restarted). Import this module before @export/testing: the testing
 * helpers and the services startStack launches read KAFKA_BROKERS when they load.
 */
const port = Number(process.env['OWN_KAFKA_PORT'] ?? 19092);
const controllerPort = port + 1;
export const OWN_BROKERS = `127.0.0.1:${port}`;
process.env['KAFKA_BROKERS'] = OWN_BROKERS;

const root = join(__dirname, '../../../..');
const script = join(root, 'tools/kafka/kafka.sh');

export interface OwnBroker {
  brokers: string;
  start(): void;
  /** Resolves once every topic's partitions have a leader that answers (fresh topics need a moment). */
  answering(): Promise<boolean>;
  stop(): void;
  /** Stops the broker and removes its data. */
  destroy(): void;
}

export function ownBroker(): OwnBroker {
  const dataDir = mkdtempSync(join(tmpdir(), 'own-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
  };
  const kafka = (...args: string[]) => {
    const result = spawnSync('bash', [script, ...args], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) {
      throw new Error(`kafka.sh ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
    }
  };
  return {
    brokers: OWN_BROKERS,
    start: () => {
      kafka('start');
      kafka('create-topics', join(root, 'tools/kafka/topics.txt'));
    },
    answering: async () => {
      const admin = new Kafka({ clientId: 'own-broker-probe', brokers: [OWN_BROKERS], logLevel: logLevel.NOTHING }).admin();
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
    stop: () => kafka('stop'),
    destroy: () => {
      try {
        kafka('stop');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
