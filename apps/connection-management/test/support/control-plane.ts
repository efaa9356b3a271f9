import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createLogger } from '@export/logging';
import { startKafkaHandlers } from '@export/service';
import { signServiceToken } from '@export/service-auth';
import { TOPICS } from '@export/contracts';
import {
  createTestDatabase,
  expectEventually,
  startGroupAtEnd,
  TEST_KAFKA_BROKERS,
  type TestDatabase,
} from '@export/testing';
import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { configureApp, listenBoth } from '../../src/app.setup';
import { ControlPlaneConfig } from '../../src/config';
import { migrateDatabase } from '../../src/database/migrate';

export const MIGRATIONS_DIR = join(__dirname, '../../src/migrations');
/** SNAPSHOT_ROOT of the control plane under test: it checks locations lexically, so nothing need exist there. */
export const TEST_SNAPSHOT_ROOT = '/data/snapshots';

export interface RunningControlPlane {
  app: INestApplication;
  url: string;
  /** The internal listener (/internal/*), on its own free port. */
  internalUrl: string;
  db: TestDatabase;
  config: ControlPlaneConfig;
  token(claims: { sub?: string; tid: string; role: string }, secret?: string): string;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
  /** `call` on the internal listener. */
  callInternal(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
  /** A service token as delivery signs it (INTERNAL_AUTH_SECRET unless another secret is given). */
  serviceToken(secret?: string, service?: string): Promise<string>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  text: string;
  headers: Headers;
}

/** The real app (real PostgreSQL in a fresh database, real broker) served on a random port. */
export async function startControlPlane(env: Record<string, string>): Promise<RunningControlPlane> {
  const db = await createTestDatabase('cp');
  const config = ControlPlaneConfig.parse({
    // The development defaults (secrets) apply only when asked for explicitly.
    NODE_ENV: 'development',
    DATABASE_URL: db.url,
    KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    KAFKA_GROUP_ID: `cp-test-${randomUUID()}`,
    LOG_LEVEL: 'warn',
    AUTOPILOT_TIMEOUT_MS: '3000',
    OUTBOX_POLL_MS: '200',
    SNAPSHOT_ROOT: TEST_SNAPSHOT_ROOT,
    ...env,
  });
  // The broker is shared with other suites: fresh groups start at the topics' ends, so this app sees only
  // the messages its tests write, not the history (which would also be dead-lettered again).
  await startGroupAtEnd(config.KAFKA_GROUP_ID, [TOPICS.segmentRefreshed.name]);
  await startGroupAtEnd(`${config.KAFKA_GROUP_ID}.run-events`, [TOPICS.runEvents.name]);
  const logger = createLogger({ service: 'connection-management', level: config.LOG_LEVEL });
  await migrateDatabase(db.url, MIGRATIONS_DIR, logger);
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.register(config, logger)],
  }).compile();
  const app = moduleRef.createNestApplication({ bufferLogs: true });
  configureApp(app);
  await startKafkaHandlers(app, { groupId: config.KAFKA_GROUP_ID });
  const ports = await listenBoth(app, {
    port: 0,
    host: '127.0.0.1',
    internalPort: 0,
    internalHost: '127.0.0.1',
  });
  const url = `http://127.0.0.1:${ports.port}`;
  const internalUrl = `http://127.0.0.1:${ports.internalPort}`;
  const request =
    (base: string): RunningControlPlane['call'] =>
    async (method, path, options = {}) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers['authorization'] = `Bearer ${options.token}`;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const text = await res.text();
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      return { status: res.status, body, text, headers: res.headers };
    };
  const call = request(url);
  const callInternal = request(internalUrl);
  // Consumers must be members of their groups before a test relies on them.
  await expectEventually(async () => (await call('GET', '/readyz')).status === 200, {
    timeoutMs: 45000,
    message: 'readiness',
  });
  return {
    app,
    url,
    internalUrl,
    db,
    config,
    call,
    callInternal,
    serviceToken: (secret = config.INTERNAL_AUTH_SECRET, service = 'autopilot-delivery') =>
      signServiceToken(secret, service),
    token: ({ sub = 'alice', tid, role }, secret = config.AUTH_JWT_SECRET) =>
      new JwtService({ secret }).sign({ sub, tid, role }, { algorithm: 'HS256', expiresIn: '5m' }),
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}

/** A segment-refreshed event (tests publish it raw so they can also send broken ones). */
export function segmentRefreshed(tenantId: string, segmentId: string, name = `Segment ${segmentId}`) {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId,
    segment: { id: segmentId, name, memberCount: 3 },
    snapshot: { format: 'csv', location: `file://${TEST_SNAPSHOT_ROOT}/${tenantId}/${segmentId}.csv` },
  };
}
