/**
 * What every benchmark and resilience scenario shares: generated segments, a stack of the built services
 * (separate processes on the real Kafka, PostgreSQL and Redis), tenants with their own simulator key,
 * connection and export, waiting for a run, peak memory, the simulator's view, and saving results.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TOPICS } from '@export/contracts';
import {
  ApiClient,
  expectEventually,
  placeSnapshot,
  produceRaw,
  signToken,
  startStack,
  WORKSPACE_ROOT,
  type Stack,
  type StackOptions,
} from '@export/testing';

export const RESULTS_DIR = join(WORKSPACE_ROOT, 'bench', 'results');

export const MACHINE = {
  cores: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};

/**
 * A CSV segment (header CustomerId,EMail,FirstName,LastName) of `profiles` distinct people, written once per
 * size and prefix under tmp/bench and reused.
 */
export async function segmentFile(profiles: number, prefix = 'person'): Promise<string> {
  const dir = join(WORKSPACE_ROOT, 'tmp', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `segment-${prefix}-${profiles}.csv`);
  if (existsSync(file)) return file;
  const partial = `${file}.${process.pid}.partial`;
  const out = createWriteStream(partial);
  out.write('CustomerId,EMail,FirstName,LastName\n');
  for (let i = 1; i <= profiles; i++) {
    if (!out.write(`C-${i},${prefix}${i}@example.com,First${i},Last${i}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  renameSync(partial, file);
  return file;
}

/** Peak resident memory (VmHWM) of a process so far, in MiB; undefined once it has exited. */
export async function peakRssMiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : undefined;
}

export interface BenchStack {
  stack: Stack;
  /** Highest VmHWM seen per service name (across restarts of the service). */
  peaks(): Promise<Record<string, number>>;
  simulator<T = SimStats>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  stop(): Promise<void>;
}

export interface SimKeyStats {
  account: string | null;
  revoked: boolean;
  requests: number;
  admitted: number;
  rejected: number;
  firstAt: string | null;
  lastAt: string | null;
  maxAdmittedInWindow: number;
  maxRequestsInWindow: number;
  minAdmittedGapMs: number | null;
}

export interface SimStats {
  requests: { total: number; byRoute: Record<string, Record<string, number>> };
  rateLimited: number;
  forced429: number;
  unauthorized: number;
  injected503: number;
  hung: number;
  keys: Record<string, SimKeyStats>;
  contacts: { total: number; byAccount: Record<string, number> };
}

export async function startBenchStack(options: StackOptions): Promise<BenchStack> {
  const stack = await startStack({ logLevel: 'warn', ...options });
  const byPid = new Map<number, { name: string; peak: number }>();
  const sample = async () => {
    for (const [name, service] of Object.entries(stack.services)) {
      const peak = await peakRssMiB(service.pid);
      if (peak !== undefined) byPid.set(service.pid, { name, peak: Math.max(byPid.get(service.pid)?.peak ?? 0, peak) });
    }
  };
  const sampler = setInterval(() => void sample(), 1000);
  const simulator = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
    const response = await fetch(`${stack.simulatorUrl}/__sim${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`simulator ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    stack,
    simulator,
    peaks: async () => {
      await sample();
      const peaks: Record<string, number> = {};
      for (const { name, peak } of byPid.values()) peaks[name] = Math.round(Math.max(peaks[name] ?? 0, peak));
      return peaks;
    },
    stop: async () => {
      clearInterval(sampler);
      await stack.stop();
    },
  };
}

export interface Run {
  id: string;
  status: string;
  reason?: string;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  counts: Record<string, number>;
}

const TERMINAL = ['succeeded', 'failed', 'skipped', 'canceled'];

export interface Tenant {
  tenantId: string;
  segmentId: string;
  apiKey: string;
  exportId: string;
  /** The segment file inside the tenant's folder `<SNAPSHOT_ROOT>/<tenantId>/` (a hard link of the shared one). */
  snapshotFile: string;
  /** Publishes a segment-refreshed event for the tenant's segment; returns when the broker has it. */
  publish(): Promise<number>;
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Waits until the newest run of the export ends; samples its delivered count (for the charts). */
  waitForRun(options?: { timeoutMs?: number; onProgress?: (run: Run) => void }): Promise<Run>;
  latestRun(): Promise<Run | undefined>;
  /** Contacts the simulator holds for the tenant's key, and how many were upserted more than once. */
  contacts(): Promise<{ count: number; duplicates: number; maxUpserts: number }>;
}

/**
 * A tenant with its own simulator key (registered in the simulator), connection and export of one segment,
 * the segment already announced once so the control plane knows it.
 */
export async function createTenant(
  bench: BenchStack,
  options: {
    profiles: number;
    file: string;
    apiKey?: string;
    exportFields?: Record<string, unknown>;
    name?: string;
  },
): Promise<Tenant> {
  const { stack } = bench;
  const apiKey = options.apiKey ?? `bench-${randomUUID()}`;
  await bench.simulator('/keys', { method: 'POST', body: { key: apiKey } });
  const tenantId = `${options.name ?? 'bench'}-${randomUUID().slice(0, 8)}`;
  const segmentId = `seg-${options.name ?? 'bench'}`;
  const token = await signToken({ sub: 'bench', tid: tenantId, role: 'admin' });
  const client = new ApiClient(stack.apiUrl, token);
  const api = <T>(method: string, path: string, body?: unknown) => client.json<T>(method, path, body);
  // Events may name only the tenant's own folder: the shared generated segment is linked into it.
  const snapshotFile = placeSnapshot(tenantId, options.file, 'segment.csv', stack.snapshotRoot);

  const publish = async () => {
    const at = Date.now();
    await produceRaw(TOPICS.segmentRefreshed.name, [
      {
        key: `${tenantId}:${segmentId}`,
        value: JSON.stringify({
          eventId: randomUUID(),
          occurredAt: new Date().toISOString(),
          tenantId,
          segment: { id: segmentId, name: `Bench ${options.name ?? ''}`.trim(), memberCount: options.profiles },
          snapshot: { format: 'csv', location: pathToFileURL(snapshotFile).href },
        }),
      },
    ]);
    return at;
  };
  const items = <T>(value: T[] | { items: T[] }) => (Array.isArray(value) ? value : value.items);
  await publish();
  await expectEventually(
    async () => items(await api<{ id: string }[] | { items: { id: string }[] }>('GET', '/v1/segments')).some((s) => s.id === segmentId),
    { timeoutMs: 60000, message: 'the control plane to know the segment' },
  );
  const connection = await api<{ id: string }>('POST', '/v1/connections', {
    displayName: `bench ${tenantId}`,
    apiKey,
    privacyConsent: true,
  });
  const exp = await api<{ id: string }>('POST', '/v1/exports', {
    name: `bench ${tenantId}`,
    connectionId: connection.id,
    segmentIds: [segmentId],
    mapping: { email: 'EMail', firstName: 'FirstName', lastName: 'LastName' },
    ...options.exportFields,
  });
  const latestRun = async () => {
    const runs = items(await api<Run[] | { items: Run[] }>('GET', `/v1/exports/${exp.id}/runs`));
    return runs[0] ? api<Run>('GET', `/v1/runs/${runs[0].id}`) : undefined;
  };
  return {
    tenantId,
    segmentId,
    apiKey,
    exportId: exp.id,
    snapshotFile,
    publish,
    api,
    latestRun,
    // Once a second, as a console would: faster polling only takes CPU from the services being measured (every
    // poll is two authenticated API requests and their queries; at 4 a second the control plane used 1.4 s of
    // CPU during a 15 s run). The end-to-end figures come from the simulator's timestamps, not from this poll.
    waitForRun: ({ timeoutMs = 30 * 60 * 1000, onProgress } = {}) =>
      expectEventually(
        async () => {
          const run = await latestRun();
          if (run) onProgress?.(run);
          return run && TERMINAL.includes(run.status) ? run : undefined;
        },
        { timeoutMs, intervalMs: 1000, message: `the run of ${tenantId} to end` },
      ),
    contacts: async () => {
      let count = 0;
      let duplicates = 0;
      let maxUpserts = 0;
      for (let offset = 0; ; offset += 20000) {
        const page = await bench.simulator<{ count: number; contacts: { upserts: number }[] }>(
          `/contacts?account=${encodeURIComponent(apiKey)}&offset=${offset}&limit=20000`,
        );
        count = page.count;
        for (const c of page.contacts) {
          if (c.upserts > 1) duplicates++;
          maxUpserts = Math.max(maxUpserts, c.upserts);
        }
        if (page.contacts.length < 20000) break;
      }
      return { count, duplicates, maxUpserts };
    },
  };
}

/** Seconds between two instants (ms or ISO strings), rounded to 0.1 s. */
export function secondsBetween(from: number | string, to: number | string): number {
  const a = typeof from === 'string' ? Date.parse(from) : from;
  const b = typeof to === 'string' ? Date.parse(to) : to;
  return Math.round((b - a) / 100) / 10;
}
