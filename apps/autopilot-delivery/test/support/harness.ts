import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TOPICS, type ContactsMappedV1, type RunEventV1, type RunSpec } from '@export/contracts';
import {
  collectMessages,
  createTestDatabase,
  DEV_JWT_SECRET,
  expectEventually,
  freePort,
  produceRaw,
  startGroupAtEnd,
  startServiceProcess,
  type TestDatabase,
} from '@export/testing';
import { JwtService } from '@nestjs/jwt';
import axios from 'axios';
import express from 'express';
import { Client } from 'pg';

export const ROOT = join(__dirname, '../../../..');

export interface Process {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM (graceful) by default; SIGKILL as a crash would. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

async function startProcess(app: string, env: Record<string, string>, readyPath: string): Promise<Process> {
  const entry = `dist/apps/${app}/main.js`;
  if (!existsSync(join(ROOT, entry))) throw new Error(`Build it first: npx nx build ${app}`);
  const service = await startServiceProcess({ name: app, entry, env, port: await freePort(), readyPath });
  return {
    url: `http://127.0.0.1:${service.port}`,
    child: service.child,
    output: service.output,
    stop: (signal = 'SIGTERM') => (signal === 'SIGKILL' ? service.kill() : service.stop()),
  };
}

/** The simulator's built artifact as a child process. */
export async function startSimulator(
  env: Record<string, string>,
): Promise<Process & { baseUrl: string; stats(): Promise<SimStats> }> {
  const proc = await startProcess('autopilot-simulator', { LOG_LEVEL: 'warn', ...env }, '/__sim/health');
  return {
    ...proc,
    baseUrl: `${proc.url}/v1`,
    stats: async () => (await axios.get(`${proc.url}/__sim/stats`)).data,
  };
}

export interface SimStats {
  requests: { total: number; byRoute: Record<string, Record<string, number>> };
  rateLimited: number;
  unauthorized: number;
  keys: Record<
    string,
    { requests: number; admitted: number; maxAdmittedInWindow: number; maxRequestsInWindow: number }
  >;
  contacts: { total: number; byAccount: Record<string, number> };
  lists: Array<{ account: string; list_id: string; title: string; members: number }>;
  duplicateListTitles: { count: number };
  duplicateEmailsInBulk: number;
  resubscribeViolations: { count: number };
}

export interface DeliveryInstance extends Process {
  groupId: string;
}

/** A delivery instance (built artifact) whose consumer groups start at the end of the shared topics. */
export async function startDelivery(
  env: Record<string, string> & { KAFKA_GROUP_ID: string },
  { joinGroup = false }: { joinGroup?: boolean } = {},
): Promise<DeliveryInstance> {
  // Only a group without members can have its offsets set: further instances just join. The broker is
  // shared, so the groups start at the topics' ends and see only this suite's messages.
  if (!joinGroup) {
    await startGroupAtEnd(env.KAFKA_GROUP_ID, [TOPICS.contactsMapped.name]);
    await startGroupAtEnd(`${env.KAFKA_GROUP_ID}-control`, [TOPICS.runControl.name]);
  }
  const proc = await startProcess(
    'autopilot-delivery',
    {
      LOG_LEVEL: 'warn',
      DELIVERY_LEASE_MS: '4000',
      DELIVERY_RETRY_INITIAL_MS: '100',
      DELIVERY_RETRY_MAX_MS: '1000',
      ...env,
    },
    '/readyz',
  );
  return { ...proc, groupId: env.KAFKA_GROUP_ID };
}

/** Stub of the control plane's internal credentials endpoint (checks the service token like the real one). */
export async function startControlPlane(): Promise<{
  url: string;
  connections: Map<
    string,
    { tenantId: string; apiKey: string; status: 'active' | 'needs-attention' | 'deleted' }
  >;
  close(): Promise<void>;
}> {
  const jwt = new JwtService({ secret: DEV_JWT_SECRET });
  const connections = new Map<
    string,
    { tenantId: string; apiKey: string; status: 'active' | 'needs-attention' | 'deleted' }
  >();
  const app = express();
  app.get('/internal/v1/connections/:id/credentials', async (req, res) => {
    try {
      const claims = await jwt.verifyAsync((req.headers.authorization ?? '').replace(/^Bearer /, ''), {
        algorithms: ['HS256'],
      });
      if (claims.role !== 'service') return void res.status(403).end();
    } catch {
      return void res.status(401).end();
    }
    const connection = connections.get(req.params.id);
    if (!connection || connection.tenantId !== req.query['tenantId'] || connection.status === 'deleted')
      return void res.status(404).end();
    res.json({ connectionId: req.params.id, ...connection });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function runSpec(overrides: Partial<RunSpec> & { tenantId: string; connectionId: string }): RunSpec {
  return {
    runId: randomUUID(),
    exportId: `exp-${randomUUID().slice(0, 8)}`,
    trigger: 'on-demand',
    segments: [
      {
        segmentId: 'seg-a',
        segmentName: 'Segment A',
        listName: `List A ${randomUUID().slice(0, 6)}`,
        snapshot: { format: 'jsonl', location: 'file:///dev/null' },
      },
    ],
    mapping: { email: 'EMail' },
    limitPolicy: 'skip',
    profileLimit: 100_000,
    quotaPerMonth: null,
    ...overrides,
  };
}

export interface ContactRow {
  email: string;
  segmentId?: string;
}

/** Publishes a run as mapping would: batches of `batchSize` (seq = position), then `end`. */
export async function publishRun(
  run: RunSpec,
  rows: ContactRow[],
  batchSize = 500,
  options: { endFirst?: boolean } = {},
): Promise<void> {
  const batches: ContactsMappedV1[] = [];
  for (let start = 0, batchSeq = 0; start < rows.length || batchSeq === 0; start += batchSize, batchSeq++) {
    const slice = rows.slice(start, start + batchSize);
    batches.push({
      kind: 'batch',
      run,
      batchSeq,
      rejected: 0,
      contacts: slice.map((r, i) => ({
        seq: start + i,
        email: r.email.trim().toLowerCase(),
        segmentId: r.segmentId ?? run.segments[0].segmentId,
        contact: { Email: r.email, FirstName: `F${start + i}` },
      })),
    });
    if (start + batchSize >= rows.length) break;
  }
  const end: ContactsMappedV1 = { kind: 'end', run, batches: batches.length, extracted: rows.length };
  const all = options.endFirst ? [end, ...batches] : [...batches, end];
  const headers = { 'x-correlation-id': `it-${run.runId}` };
  for (let i = 0; i < all.length; i += 50) {
    await produceRaw(
      TOPICS.contactsMapped.name,
      all.slice(i, i + 50).map((value) => ({ key: run.runId, value: JSON.stringify(value), headers })),
    );
  }
}

export function emails(prefix: string, count: number, domain = 'example.com'): ContactRow[] {
  return Array.from({ length: count }, (_, i) => ({ email: `${prefix}${i}@${domain}` }));
}

/** Run events of this suite, parsed; poll with `forRun`. */
export async function watchRunEvents() {
  const collector = await collectMessages([TOPICS.runEvents.name]);
  return {
    forRun: (runId: string): RunEventV1[] =>
      collector.messages
        .filter((m) => m.key === runId && m.value)
        .map((m) => JSON.parse(m.value as string) as RunEventV1),
    stop: collector.stop,
  };
}

export async function waitForEvent<T extends RunEventV1['type']>(
  events: { forRun(runId: string): RunEventV1[] },
  runId: string,
  type: T,
  timeoutMs = 40_000,
): Promise<Extract<RunEventV1, { type: T }>> {
  return expectEventually(
    () => events.forRun(runId).find((e) => e.type === type) as Extract<RunEventV1, { type: T }> | undefined,
    {
      timeoutMs,
      intervalMs: 100,
      message: `${type} of run ${runId}`,
    },
  );
}

export const uid = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/**
 * What every delivery suite runs against: a fresh database, the simulator at 5 requests/s, a stub control
 * plane, a watcher of run events and a database client. `deliveryEnv` completes a delivery instance's
 * environment; `stop` tears everything down.
 */
export async function startDeliveryTestEnvironment(databasePrefix: string) {
  const db: TestDatabase = await createTestDatabase(databasePrefix);
  const sim = await startSimulator({ SIM_RATE_LIMIT_RPS: '5', SIM_API_KEYS: 'unused-key' });
  const controlPlane = await startControlPlane();
  const events = await watchRunEvents();
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  return {
    db,
    sim,
    controlPlane,
    events,
    pg,
    deliveryEnv: (env: Record<string, string> & { KAFKA_GROUP_ID: string }) => ({
      DATABASE_URL: db.url,
      AUTOPILOT_BASE_URL: sim.baseUrl,
      CONTROL_PLANE_URL: controlPlane.url,
      AUTOPILOT_RATE_LIMIT_RPS: '5',
      ...env,
    }),
    stop: async () => {
      await events.stop();
      await pg.end();
      await sim.stop();
      await controlPlane.close();
      await db.drop();
    },
  };
}
export type DeliveryTestEnvironment = Awaited<ReturnType<typeof startDeliveryTestEnvironment>>;
