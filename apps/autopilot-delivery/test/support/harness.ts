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
  DEV_INTERNAL_AUTH_SECRET,
  expectEventually,
  freePort,
  produceRaw,
  startGroupAtEnd,
  startServiceProcess,
  type TestDatabase,
} from '@export/testing';
import { verifyServiceToken } from '@export/service-auth';
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

type StubConnection = { tenantId: string; apiKey: string; status: 'active' | 'needs-attention' | 'deleted' };
type StubRun = {
  spec: RunSpec;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'canceled';
};

/**
 * Runs the stub control plane knows, as the real one would after starting them: `runSpec()` registers each
 * run it makes as running (a forged message is one whose run is missing here or differs from it).
 */
const knownRuns = new Map<string, StubRun>();

/**
 * Stub of the control plane's internal listener: the run confirmation and the credentials endpoint, checking
 * the service token (INTERNAL_AUTH_SECRET, audience internal) and the run like the real one. `setUp(false)`
 * stops it listening (connections refused), `setUp(true)` listens again on the same port.
 */
export async function startControlPlane(): Promise<{
  url: string;
  connections: Map<string, StubConnection>;
  runs: Map<string, StubRun>;
  /** Calls answered, by route ('runs' | 'credentials'). */
  calls: { runs: number; credentials: number };
  setUp(up: boolean): Promise<void>;
  close(): Promise<void>;
}> {
  const connections = new Map<string, StubConnection>();
  const calls = { runs: 0, credentials: 0 };
  const app = express();
  app.use(async (req, res, next) => {
    try {
      await verifyServiceToken(
        DEV_INTERNAL_AUTH_SECRET,
        (req.headers.authorization ?? '').replace(/^Bearer /, ''),
      );
      next();
    } catch {
      res.status(401).json({ statusCode: 401, message: 'Invalid or expired service token' });
    }
  });
  app.get('/internal/v1/runs/:runId', (req, res) => {
    calls.runs++;
    const run = knownRuns.get(req.params.runId);
    if (!run || run.spec.tenantId !== req.query['tenantId'])
      return void res.status(404).json({ statusCode: 404, message: 'RUN_NOT_FOUND' });
    const { spec, status } = run;
    res.json({
      runId: spec.runId,
      tenantId: spec.tenantId,
      exportId: spec.exportId,
      status,
      connectionId: spec.connectionId,
      limitPolicy: spec.limitPolicy,
      profileLimit: spec.profileLimit,
      quotaPerMonth: spec.quotaPerMonth,
      spec,
    });
  });
  app.get('/internal/v1/connections/:id/credentials', (req, res) => {
    calls.credentials++;
    const run = knownRuns.get(String(req.query['runId']));
    if (!run || run.spec.tenantId !== req.query['tenantId'])
      return void res.status(404).json({ statusCode: 404, message: 'RUN_NOT_FOUND' });
    if (run.spec.connectionId !== req.params.id)
      return void res.status(409).json({ statusCode: 409, message: 'RUN_CONNECTION_MISMATCH' });
    if (run.status !== 'queued' && run.status !== 'running')
      return void res.status(409).json({ statusCode: 409, message: 'RUN_NOT_ACTIVE' });
    const connection = connections.get(req.params.id);
    if (!connection || connection.tenantId !== req.query['tenantId'] || connection.status === 'deleted')
      return void res.status(404).end();
    res.json({ connectionId: req.params.id, ...connection });
  });
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s)).once('error', reject);
    });
    port = (server.address() as AddressInfo).port;
  };
  const close = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    runs: knownRuns,
    calls,
    setUp: (up) => (up ? (server ? Promise.resolve() : listen()) : close()),
    close,
  };
}

export function runSpec(overrides: Partial<RunSpec> & { tenantId: string; connectionId: string }): RunSpec {
  const spec: RunSpec = {
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
  knownRuns.set(spec.runId, { spec, status: 'running' });
  return spec;
}

export interface ContactRow {
  email: string;
  segmentId?: string;
  /** Default: `F<seq>`. */
  firstName?: string;
}

/** Publishes a run as mapping would: batches of `batchSize` (seq = position), then `end`. */
export async function publishRun(
  run: RunSpec,
  rows: ContactRow[],
  batchSize = 500,
  options: { endFirst?: boolean } = {},
): Promise<void> {
  const { batches, end } = runMessages(run, rows, batchSize);
  await produceRunMessages(run, options.endFirst ? [end, ...batches] : [...batches, end]);
}

/** A run's contacts-mapped messages as field-mapping sends them: batches of `batchSize`, then the end. */
export function runMessages(
  run: RunSpec,
  rows: ContactRow[],
  batchSize = 500,
): { batches: ContactsMappedV1[]; end: ContactsMappedV1 } {
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
        contact: { Email: r.email, FirstName: r.firstName ?? `F${start + i}` },
      })),
    });
    if (start + batchSize >= rows.length) break;
  }
  return { batches, end: { kind: 'end', run, batches: batches.length, extracted: rows.length } };
}

export async function produceRunMessages(run: RunSpec, messages: ContactsMappedV1[]): Promise<void> {
  const headers = { 'x-correlation-id': `it-${run.runId}` };
  for (let i = 0; i < messages.length; i += 50) {
    await produceRaw(
      TOPICS.contactsMapped.name,
      messages.slice(i, i + 50).map((value) => ({ key: run.runId, value: JSON.stringify(value), headers })),
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
      INTERNAL_AUTH_SECRET: DEV_INTERNAL_AUTH_SECRET,
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
