/**
 * Whole-pipeline benchmark: a segment-refreshed event for a generated CSV segment goes through all four
 * services (separate processes, real Kafka, PostgreSQL, Redis) into the Autopilot simulator; prints the
 * time from the event to the last contact acknowledged and each service's peak memory, and saves JSON.
 *
 *   npm run bench:pipeline -- --profiles 100000 --rps 0            # scenario 1: unthrottled
 *   npm run bench:pipeline -- --profiles 100000 --rps 5            # scenario 2: 5 requests/s per key
 *   npm run bench:pipeline -- --profiles 100000 --rps 5 --deliveries 2   # scenario 3: two instances, one key
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '@export/contracts';
import { expectEventually, produceRaw, readRssMiB, signToken, startStack, WORKSPACE_ROOT } from '@export/testing';
import { Command } from 'commander';

const opts = new Command('bench:pipeline')
  .option('--profiles <n>', 'profiles in the segment', Number, 100000)
  .option('--rps <n>', 'simulator rate limit per key (0 = unthrottled)', Number, 0)
  .option('--deliveries <n>', 'delivery instances', Number, 1)
  .option('--log-level <level>', 'services log level (logs in tmp/logs)', 'warn')
  .parse()
  .opts<{ profiles: number; rps: number; deliveries: number; logLevel: string }>();

async function main(): Promise<void> {
  const dir = join(WORKSPACE_ROOT, 'tmp', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `segment-${opts.profiles}.csv`);
  const out = createWriteStream(file);
  out.write('CustomerId,EMail,FirstName,LastName\n');
  for (let i = 1; i <= opts.profiles; i++) {
    if (!out.write(`C-${i},person${i}@example.com,First${i},Last${i}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');

  const apiKey = `bench-${randomUUID()}`;
  const tenantId = `bench-${randomUUID().slice(0, 8)}`;
  const stack = await startStack({
    apiKeys: [apiKey],
    simulatorRps: opts.rps,
    deliveryInstances: opts.deliveries,
    logLevel: opts.logLevel,
  });
  const peaks: Record<string, number> = {};
  const sampler = setInterval(async () => {
    for (const [name, service] of Object.entries(stack.services)) {
      const rss = await readRssMiB(service.pid);
      if (rss !== undefined) peaks[name] = Math.max(peaks[name] ?? 0, rss);
    }
  }, 200);
  const token = signToken({ sub: 'bench', tid: tenantId, role: 'admin' });
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const publish = () =>
    produceRaw(TOPICS.segmentRefreshed.name, [
      {
        key: `${tenantId}:seg-bench`,
        value: JSON.stringify({
          eventId: randomUUID(),
          occurredAt: new Date().toISOString(),
          tenantId,
          segment: { id: 'seg-bench', name: 'Bench', memberCount: opts.profiles },
          snapshot: { format: 'csv', location: `file://${file}` },
        }),
      },
    ]);
  try {
    await publish();
    await expectEventually(async () => {
      const s = await api<{ id: string }[] | { items: { id: string }[] }>('GET', '/v1/segments');
      return (Array.isArray(s) ? s : s.items).some((x) => x.id === 'seg-bench');
    });
    const connection = await api<{ id: string }>('POST', '/v1/connections', { displayName: 'bench', apiKey, privacyConsent: true });
    const exp = await api<{ id: string }>('POST', '/v1/exports', {
      name: 'bench',
      connectionId: connection.id,
      segmentIds: ['seg-bench'],
      mapping: { email: 'EMail', firstName: 'FirstName', lastName: 'LastName' },
    });
    const started = Date.now();
    await publish();
    type Run = { id: string; status: string; counts: Record<string, number> };
    const run = await expectEventually(
      async () => {
        const runs = await api<Run[] | { items: Run[] }>('GET', `/v1/exports/${exp.id}/runs`);
        const latest = (Array.isArray(runs) ? runs : runs.items)[0];
        return latest && ['succeeded', 'failed', 'skipped', 'canceled'].includes(latest.status)
          ? api<Run>('GET', `/v1/runs/${latest.id}`)
          : undefined;
      },
      { timeoutMs: 30 * 60 * 1000, intervalMs: 250, message: 'the run to finish' },
    );
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const stats = (await (await fetch(`${stack.simulatorUrl}/__sim/stats`)).json()) as Record<string, unknown>;
    const result = {
      scenario: `pipeline profiles=${opts.profiles} rps=${opts.rps} deliveries=${opts.deliveries}`,
      at: new Date().toISOString(),
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      status: run.status,
      counts: run.counts,
      seconds,
      contactsPerSecond: Math.round((run.counts['delivered'] ?? 0) / seconds),
      floorSeconds: opts.rps ? opts.profiles / 100 / opts.rps : undefined,
      peakRssMiB: Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v)])),
      simulator: stats,
    };
    const resultsDir = join(WORKSPACE_ROOT, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const outFile = join(resultsDir, `pipeline-${opts.profiles}-rps${opts.rps}-d${opts.deliveries}.json`);
    writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
    console.log(`${result.scenario}: ${run.status} in ${seconds.toFixed(1)} s, ${result.contactsPerSecond} contacts/s`);
    if (result.floorSeconds) console.log(`  floor ${result.floorSeconds} s, ratio ${(seconds / result.floorSeconds).toFixed(3)}`);
    console.log(`  counts ${JSON.stringify(run.counts)}`);
    console.log(`  peak RSS MiB ${JSON.stringify(result.peakRssMiB)}`);
    console.log(`  saved ${outFile}`);
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
