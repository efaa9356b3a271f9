import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '@export/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { createStackTenant, freePort, startStack, testKafka, WORKSPACE_ROOT, type Stack, type StackTenant } from '@export/testing';
import { startSaslBroker, type SaslBroker, type SaslUser } from './support/sasl-broker';

const PROFILES = 500;
const SERVICES = ['connection-management', 'segment-extraction', 'field-mapping', 'autopilot-delivery'] as const;

/** The kafkajs error type of a failed call (`TOPIC_AUTHORIZATION_FAILED`, ...), or its class name. */
function errorType(error: unknown): string {
  let current = error as { name?: string; type?: string; cause?: unknown } | undefined;
  while (current) {
    if (current.type) return current.type;
    if (!current.cause) return current.name ?? String(error);
    current = current.cause as typeof current;
  }
  return String(error);
}

/**
 * Kafka is not a trust boundary: on a SASL_SSL broker (SCRAM-SHA-512 over TLS, a development CA) that denies
 * what its ACLs do not allow, every service connects as its own user and a whole export still goes through;
 * a forged write is refused. (`KAFKA_SECURITY=sasl`, the same without TLS, is `startSaslBroker('sasl')`.)
 */
describe('Kafka over SASL_SCRAM and TLS with a user per service and topic ACLs', () => {
  let broker: SaslBroker;
  let stack: Stack;
  let tenant: StackTenant;
  const apiKey = `sim-sasl-${randomUUID()}`;
  const segmentId = 'seg-sasl';
  let snapshotPath: string;

  beforeAll(async () => {
    broker = await startSaslBroker();
    stack = await startStack({
      apiKeys: [apiKey],
      simulatorRps: 0,
      // Snapshots under <SNAPSHOT_ROOT>/<tenant>/, as the services confine them.
      snapshotRoot: mkdtempSync(join(tmpdir(), 'sasl-snapshots-')),
      // The stack's own clients (consumer-group set-up) are the admin; each service is its own user.
      kafka: broker.connection('admin'),
      env: {
        'connection-management': broker.serviceEnv('connection-management'),
        'segment-extraction': broker.serviceEnv('segment-extraction'),
        'field-mapping': broker.serviceEnv('field-mapping'),
        'autopilot-delivery': broker.serviceEnv('autopilot-delivery'),
      },
    });
    // The upstream platform may write its public topic, as itself.
    tenant = await createStackTenant(stack, { prefix: 'sasl', kafka: broker.connection('upstream') });
    snapshotPath = join(tenant.snapshotDir, 'members.csv');
    const rows = ['CustomerId,EMail,FirstName'];
    for (let i = 0; i < PROFILES; i++) rows.push(`C-${i},sasl-member-${i}@example.com,Member ${i}`);
    writeFileSync(snapshotPath, rows.join('\n') + '\n');
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    broker?.destroy();
  });

  /** Produces one message as `user` and answers what the broker said. */
  const produceAs = async (user: SaslUser, topic: string, password?: string): Promise<string> => {
    const producer = testKafka(`forger-${user}`, broker.connection(user, password)).producer({
      allowAutoTopicCreation: false,
      retry: { retries: 0 },
    });
    try {
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'forged', value: '{"forged":true}' }], acks: -1 });
      return 'written';
    } catch (error) {
      return errorType(error);
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  };

  const endOffsets = async (topic: string): Promise<string[]> => {
    const admin = testKafka('sasl-offsets', broker.connection('admin')).admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).map((p) => `${p.partition}:${p.high}`).sort();
    } finally {
      await admin.disconnect();
    }
  };

  it('runs a whole export with every service authenticated as its own SCRAM user', async () => {
    await tenant.refresh({
      segment: { id: segmentId, name: 'SASL members', memberCount: PROFILES },
      snapshot: { format: 'csv', location: `file://${snapshotPath}` },
    });
    await tenant.segmentKnown(segmentId);
    const connection = await tenant.connect(apiKey);
    const exportId = await tenant.createExport({
      name: 'SASL members',
      connectionId: connection.id,
      segmentIds: [segmentId],
      mapping: { email: 'EMail', firstName: 'FirstName' },
    });
    const run = await tenant.runEnded(await tenant.run(exportId));
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'succeeded', reason: undefined });
    expect(run.counts).toMatchObject({ extracted: PROFILES, rejected: 0, delivered: PROFILES, failed: 0 });
    const sim = (await (await fetch(`${stack.simulatorUrl}/__sim/contacts?account=${encodeURIComponent(apiKey)}`)).json()) as {
      count: number;
    };
    expect(sim.count).toBe(PROFILES);

    // Each service said how it connected, as whom, and never its password.
    for (const service of SERVICES) {
      const output = stack.services[service === 'autopilot-delivery' ? 'autopilot-delivery-0' : service].output();
      expect(output).toMatch(new RegExp(`"protocol":"SASL_SSL","mechanism":"scram-sha-512","username":"${service}"`));
      expect(output).not.toContain(broker.password(service));
    }
  });

  it('refuses forged writes to topics the user may not write, and stores nothing from them', async () => {
    const before = await Promise.all([endOffsets(TOPICS.contactsMapped.name), endOffsets(TOPICS.runRequested.name)]);
    // An upstream platform pushing contacts straight to delivery, or run requests of its own.
    expect(await produceAs('upstream', TOPICS.contactsMapped.name)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await produceAs('upstream', TOPICS.runRequested.name)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await produceAs('upstream', TOPICS.runControl.name)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // A compromised stage cannot skip the ones before it.
    expect(await produceAs('field-mapping', TOPICS.runRequested.name)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await produceAs('segment-extraction', TOPICS.contactsMapped.name)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await produceAs('autopilot-delivery', TOPICS.contactsMapped.name)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await Promise.all([endOffsets(TOPICS.contactsMapped.name), endOffsets(TOPICS.runRequested.name)])).toEqual(before);
  });

  it("refuses reading another service's topic", async () => {
    const spy = testKafka('upstream-spy', broker.connection('upstream')).admin({ retry: { retries: 0 } });
    await spy.connect();
    try {
      const outcome = await spy.fetchTopicOffsets(TOPICS.contactsMapped.name).then(
        () => 'read',
        (error: unknown) => errorType(error),
      );
      expect(outcome).toBe('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await spy.disconnect().catch(() => undefined);
    }
  });

  it('refuses a wrong password', async () => {
    expect(await produceAs('upstream', TOPICS.segmentRefreshed.name, 'not-the-password')).toBe('KafkaJSSASLAuthenticationError');
  });

  it('stops a service whose password the broker refuses, without logging the password', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const port = await freePort();
    const result = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'dist', 'apps', 'field-mapping', 'main.js')], {
        env: {
          PATH: process.env['PATH'] ?? '',
          NODE_ENV: 'development',
          PORT: String(port),
          KAFKA_GROUP_ID: `field-mapping-${randomUUID().slice(0, 8)}`,
          ...broker.serviceEnv('field-mapping'),
          KAFKA_SASL_PASSWORD: wrong,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout?.on('data', (chunk) => (text += chunk));
      child.stderr?.on('data', (chunk) => (text += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
      child.on('exit', (code) => (clearTimeout(timer), resolve({ code, text })));
    });
    expect(result.code).toBe(1);
    expect(result.text).toMatch(/SASL SCRAM SHA512 authentication failed/);
    expect(result.text).not.toContain(wrong);
  });

  it("refuses clients that do not trust the broker's CA, and PLAINTEXT clients", async () => {
    const connect = async (ssl: boolean | undefined): Promise<string> => {
      const { sasl } = broker.connection('upstream');
      const kafka = new Kafka({
        clientId: 'tls-probe',
        brokers: broker.brokers,
        ssl,
        sasl,
        connectionTimeout: 2000,
        authenticationTimeout: 2000,
        requestTimeout: 3000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer();
      try {
        await producer.connect();
        return 'connected';
      } catch (error) {
        return String((error as Error).message);
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    };
    // Node's own CAs do not know the development CA: KAFKA_SSL=true without KAFKA_SSL_CA fails verification.
    expect(await connect(true)).toMatch(/certificate/);
    expect(await connect(undefined)).not.toBe('connected');
  });
});

/** Each service refuses, at start, Kafka settings that production must not run with, naming the variables. */
describe('Kafka settings checked at start', () => {
  const start = (app: string, env: Record<string, string>) =>
    new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'dist', 'apps', app, 'main.js')], {
        env: { PATH: process.env['PATH'] ?? '', PORT: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout?.on('data', (chunk) => (text += chunk));
      child.stderr?.on('data', (chunk) => (text += chunk));
      child.on('exit', (code) => resolve({ code, text }));
    });

  it.each(SERVICES)('%s refuses PLAINTEXT in production, and a mechanism without its password', async (app) => {
    const plaintext = await start(app, { NODE_ENV: 'production' });
    expect(plaintext.code).toBe(1);
    expect(plaintext.text).toContain('KAFKA_SASL_MECHANISM: required in production');
    expect(plaintext.text).toContain('KAFKA_SSL: must be true in production');
    const noPassword = await start(app, { NODE_ENV: 'development', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: app });
    expect(noPassword.code).toBe(1);
    expect(noPassword.text).toContain('KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set');
  });
});
