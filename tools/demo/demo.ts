/**
 * The main job: brings up the whole stack (simulator + four services as separate processes on the local
 * Kafka broker, PostgreSQL and Redis), generates a segment, publishes its segment-refreshed event, and
 * follows the export run with a progress bar (its phase) to its final summary; then previews the next run
 * (dry run) and runs it again: nothing changed, so nothing is sent.
 *
 *   npm run demo -- --profiles 20000 --rps 5 [--keep]
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { TOPICS, type SegmentRefreshedV1 } from '@export/contracts';
import {
  ApiClient,
  expectEventually,
  produceRaw,
  signToken,
  startStack,
  tenantSnapshotDir,
  TEST_SNAPSHOT_ROOT,
} from '@export/testing';
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
};

const options = new Command('demo')
  .description('Run the whole stack with a demo export of a generated segment')
  .option('--profiles <n>', 'profiles in the generated segment', positiveInt, 10000)
  .option('--rps <n>', "Autopilot simulator's rate limit per key (0 = unthrottled)", positiveInt, 5)
  .option('--keep', 'leave the stack running after the export (Ctrl-C stops it)', false)
  .option(
    '--snapshot-root <dir>',
    "SNAPSHOT_ROOT of the services; the segment is written to <dir>/demo-tenant/",
    process.env['SNAPSHOT_ROOT'] || TEST_SNAPSHOT_ROOT,
  )
  .parse()
  .opts<{ profiles: number; rps: number; keep: boolean; snapshotRoot: string }>();

const say = (text: string) => process.stdout.write(`${text}\n`);

async function writeSegment(file: string, profiles: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('CustomerId,EMail,FirstName,LastName\n');
  for (let i = 1; i <= profiles; i++) {
    // Every 50th row is a duplicate of the row before (other case), every 97th has a broken e-mail.
    const email = i % 97 === 0 ? `broken-${i}` : i % 50 === 0 ? `Person${i - 1}@Example.com` : `person${i}@example.com`;
    if (!out.write(`C-${i},${email},First${i},Last${i}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const apiKey = `demo-${randomUUID()}`;
  const tenantId = 'demo-tenant';
  const segmentId = 'seg-demo';
  // A tenant's snapshots live under <SNAPSHOT_ROOT>/<tenantId>/: the only folder its events may name.
  const snapshotRoot = resolve(options.snapshotRoot);
  const snapshot = join(tenantSnapshotDir(tenantId, snapshotRoot), `segment-${Date.now()}.csv`);
  say(`Generating a segment of ${options.profiles.toLocaleString('en')} profiles in ${snapshot}`);
  await writeSegment(snapshot, options.profiles);

  say('Starting the Autopilot simulator and the four services (logs in tmp/logs/) ...');
  const stack = await startStack({ apiKeys: [apiKey], simulatorRps: options.rps, basePort: 3000, snapshotRoot });
  const stop = async () => {
    await stack.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  const token = await signToken({ sub: 'demo-admin', tid: tenantId, role: 'admin' });
  const client = new ApiClient(stack.apiUrl, token);
  const api = <T>(method: string, path: string, body?: unknown) => client.json<T>(method, path, body);

  const event = (): SegmentRefreshedV1 => ({
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId,
    segment: { id: segmentId, name: 'Demo segment', memberCount: options.profiles },
    snapshot: { format: 'csv', location: pathToFileURL(snapshot).href },
  });
  const publish = (e: SegmentRefreshedV1) =>
    produceRaw(TOPICS.segmentRefreshed.name, [{ key: `${tenantId}:${segmentId}`, value: JSON.stringify(e) }]);

  try {
    say(`Control plane: ${stack.apiUrl}/docs   Simulator: ${stack.simulatorUrl}/__sim/stats`);
    say(`Internal listener (service tokens only): ${stack.internalUrl}`);
    await publish(event());
    await expectEventually(async () => {
      const segments = await api<{ id: string }[] | { items: { id: string }[] }>('GET', '/v1/segments');
      return (Array.isArray(segments) ? segments : segments.items).some((s) => s.id === segmentId);
    });
    const connection = await api<{ id: string; apiKeyLast4: string }>('POST', '/v1/connections', {
      displayName: 'Autopilot (simulator)',
      apiKey,
      privacyConsent: true,
      addMeAsExportUser: true,
    });
    say(`Connection ${connection.id} created (key ending ${connection.apiKeyLast4}, checked against GET /account)`);
    const exp = await api<{ id: string }>('POST', '/v1/exports', {
      name: 'Demo export',
      connectionId: connection.id,
      segmentIds: [segmentId],
      mapping: { email: 'EMail', firstName: 'FirstName', lastName: 'LastName' },
    });
    say(`Export ${exp.id} saved; publishing customer-insights.segment-refreshed.v1 ...`);
    const startedAt = Date.now();
    await publish(event());

    const bar = new SingleBar(
      { format: ' {phase} |{bar}| {value}/{total} contacts | {rate}/s | {duration_formatted}', hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(options.profiles, 0, { phase: 'queued    ', rate: 0 });
    type Run = {
      id: string;
      status: string;
      reason?: string;
      message?: string;
      dryRun?: boolean;
      phase?: string;
      counts: Record<string, number>;
    };
    const terminal = (r: Run) => ['succeeded', 'failed', 'skipped', 'canceled'].includes(r.status);
    let run: Run | undefined;
    for (;;) {
      const runs = await api<Run[] | { items: Run[] }>('GET', `/v1/exports/${exp.id}/runs`);
      const latest = (Array.isArray(runs) ? runs : runs.items)[0];
      if (latest) run = await api<Run>('GET', `/v1/runs/${latest.id}`);
      if (run) {
        const seconds = (Date.now() - startedAt) / 1000;
        bar.setTotal(Math.max(run.counts['eligible'] || options.profiles, 1));
        bar.update(run.counts['delivered'] ?? 0, {
          phase: (run.phase ?? run.status).padEnd(10),
          rate: Math.round((run.counts['delivered'] ?? 0) / seconds),
        });
        if (terminal(run)) break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    bar.stop();
    const seconds = (Date.now() - startedAt) / 1000;
    const simStats = async () => (await (await fetch(`${stack.simulatorUrl}/__sim/stats`)).json()) as Record<string, unknown>;
    const stats = await simStats();
    const diff = (r: Run) =>
      `added ${r.counts['added'] ?? 0}, updated ${r.counts['updated'] ?? 0}, unchanged ${r.counts['unchanged'] ?? 0}, ` +
      `removed ${r.counts['removed'] ?? 0} (delivered ${r.counts['delivered'] ?? 0} of ${r.counts['eligible'] ?? 0} eligible)`;
    say('');
    say(`Run ${run.id}: ${run.status}${run.reason ? ` (${run.reason})` : ''} in ${seconds.toFixed(1)} s`);
    say(`  ${diff(run)}`);
    say(`  counts: ${JSON.stringify(run.counts)}`);
    const requests = stats['requests'] as { total: number };
    const keys = Object.values(stats['keys'] as Record<string, { maxAdmittedInWindow: number }>);
    say(
      `  Autopilot simulator: ${requests.total} requests, ${String(stats['rateLimited'])} answered 429, ` +
        `busiest second ${Math.max(0, ...keys.map((k) => k.maxAdmittedInWindow))} requests (limit ${options.rps || 'none'})`,
    );

    // Incremental sync: preview the next run, then run it; nothing changed, so nothing is sent.
    const follow = async (runId: string): Promise<Run> => {
      for (;;) {
        const current = await api<Run>('GET', `/v1/runs/${runId}`);
        if (terminal(current)) return current;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    if (run.status === 'succeeded') {
      const dry = await follow((await api<{ runId: string }>('POST', `/v1/exports/${exp.id}/runs`, { dryRun: true })).runId);
      say(`Dry run ${dry.id} (${dry.status}, nothing sent or changed) predicts: ${diff(dry)}`);
      const before = (await simStats())['requests'] as { total: number };
      const again = await follow((await api<{ runId: string }>('POST', `/v1/exports/${exp.id}/runs`)).runId);
      const after = (await simStats())['requests'] as { total: number };
      say(`Second run ${again.id}: ${again.status}: ${diff(again)}; ${after.total - before.total} Autopilot requests`);
    }
    if (options.keep) {
      say('Stack left running; Ctrl-C stops it.');
      await new Promise(() => undefined);
    }
    process.exitCode = run.status === 'succeeded' ? 0 : 1;
  } finally {
    if (!options.keep) await stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
