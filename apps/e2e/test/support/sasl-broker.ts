import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_TOPICS } from '@export/contracts';
import { expectEventually, freePort, testKafka, type TestKafkaConnection } from '@export/testing';

/** The users `kafka.sh` creates on a SASL broker (tools/kafka/kafka.sh SASL_USERS). */
export type SaslUser = 'admin' | 'connection-management' | 'segment-extraction' | 'field-mapping' | 'autopilot-delivery' | 'upstream';

export interface SaslBroker {
  brokers: string[];
  /** The development CA that signed the broker's certificate (SASL_SSL only). */
  caPath?: string;
  /** How a test client connects as `user` (SCRAM-SHA-512); `password` overrides the real one. */
  connection(user: SaslUser, password?: string): TestKafkaConnection;
  /** The environment a service needs to connect as `user`. */
  serviceEnv(user: SaslUser): Record<string, string>;
  password(user: SaslUser): string;
  /** Stops the broker and removes its data (credentials included). */
  destroy(): void;
}

const root = join(__dirname, '../../../..');
const script = join(root, 'tools/kafka/kafka.sh');

/**
 * A SASL_SCRAM broker of this test file alone (`KAFKA_SECURITY=sasl|sasl_ssl kafka.sh start`): its own free
 * ports and data dir, users and random passwords made by kafka.sh at format time, the ACLs of
 * tools/kafka/acls.txt, and with `sasl_ssl` TLS with a development CA. The shared PLAINTEXT broker is not touched.
 */
export async function startSaslBroker(security: 'sasl' | 'sasl_ssl' = 'sasl_ssl'): Promise<SaslBroker> {
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'kafka-sasl-'));
  const env = {
    ...process.env,
    KAFKA_SECURITY: security,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
  };
  const kafka = (...args: string[]) => {
    const result = spawnSync('bash', [script, ...args], { cwd: root, env, encoding: 'utf8', timeout: 180_000 });
    if (result.status !== 0) {
      throw new Error(`kafka.sh ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
    }
  };
  const destroy = () => {
    try {
      kafka('stop');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  try {
    kafka('start');
    kafka('create-topics', join(root, 'tools/kafka/topics.txt'));
  } catch (error) {
    destroy();
    throw error;
  }
  const passwords = new Map(
    readFileSync(join(dataDir, 'credentials.properties'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
  const password = (user: SaslUser) => {
    const value = passwords.get(user);
    if (!value) throw new Error(`kafka.sh made no password for ${user}`);
    return value;
  };
  const brokers = [`127.0.0.1:${port}`];
  const caPath = security === 'sasl_ssl' ? join(dataDir, 'tls', 'ca.pem') : undefined;
  const ssl = caPath ? { ca: [readFileSync(caPath, 'utf8')] } : undefined;
  const connection = (user: SaslUser, override?: string): TestKafkaConnection => ({
    brokers,
    ...(ssl ? { ssl } : {}),
    sasl: { mechanism: 'scram-sha-512', username: user, password: override ?? password(user) },
  });
  const admin = connection('admin');
  // Fresh topics need a moment before every partition's leader answers offset requests.
  await expectEventually(() => answering(admin), { timeoutMs: 30000, message: 'SASL broker answering for every topic' }).catch(
    (error) => {
      destroy();
      throw error;
    },
  );
  return {
    brokers,
    caPath,
    password,
    connection,
    serviceEnv: (user) => ({
      KAFKA_BROKERS: brokers.join(','),
      ...(caPath ? { KAFKA_SSL: 'true', KAFKA_SSL_CA: caPath } : {}),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD: password(user),
    }),
    destroy,
  };
}

async function answering(connection: TestKafkaConnection): Promise<boolean> {
  const admin = testKafka('sasl-broker-probe', connection).admin();
  try {
    await admin.connect();
    for (const topic of ALL_TOPICS) await admin.fetchTopicOffsets(topic.name);
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
