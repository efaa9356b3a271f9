/**
 * Incremental mirror sync (issue 12): one export of a 100,000-profile segment, all services as separate
 * processes on real Kafka, PostgreSQL and Redis, the simulator enforcing 5 requests/s per key.
 *
 *   run 1  the first load (everything added; ~200 s at 5 r/s), which builds the export's destination state
 *   run 2  the same snapshot again: target 0 contact calls, 0 quota spent, event -> succeeded under 15 s
 *   run 3  1% changed (1,000 updated FirstName) and 0.1% left (100 removed from the list): target within 5%
 *          of the floor those calls allow at 5 r/s (10 bulk calls + 100 removals + list lookups), 0 x 429
 *
 * Prints and saves bench/results/<name>.{json,svg,md}, with the machine's load average (the machine is shared).
 *
 *   npm run bench:incremental [-- --profiles 100000 --rps 5 --name incremental-100k]
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TOPICS } from '@export/contracts';
import { placeSnapshot, produceRaw, WORKSPACE_ROOT } from '@export/testing';
import { Command } from 'commander';
import { createTenant, secondsBetween, segmentFile, startBenchStack, type Run, type SimStats, type Tenant } from '../lib/harness';
import { saveResult, type Chart } from '../lib/report';

const opts = new Command('bench-incremental')
  .option('--name <name>', 'result name (bench/results/<name>.*)', 'incremental-100k')
  .option('--profiles <n>', 'profiles in the segment', Number, 100000)
  .option('--rps <n>', 'simulator rate limit per key (and delivery pacing)', Number, 5)
  .parse()
  .opts<{ name: string; profiles: number; rps: number }>();

const CONTACT_ROUTES = ['POST /contacts', 'POST /contact', 'POST /list/:listId/contact/:contactIdOrEmail'];
const REMOVAL_ROUTE = 'DELETE /list/:listId/contact/:contactIdOrEmail';
const LIST_ROUTES = ['GET /lists', 'POST /list'];

interface RunFigures {
  run: string;
  status: string;
  reason?: string;
  counts: Record<string, number>;
  eventToRunEndSeconds: number;
  /** From the run's first Autopilot call to its last (undefined without calls). */
  firstCallToLastCallSeconds?: number;
  contactCalls: number;
  removalCalls: number;
  listCalls: number;
  requests: number;
  rateLimited429: number;
  quotaSpent: number;
  /** The calls the run's changes need (bulk calls of 100, removals, list look-ups) / rps: the least time at the key's rate. */
  floorSeconds?: number;
  ratioToFloor?: number;
  loadAverage: number[];
}

/** The segment with `changed` people's FirstName changed and the last `left` people gone. */
async function variantFile(profiles: number, changed: number, left: number): Promise<string> {
  const file = join(WORKSPACE_ROOT, 'tmp', 'bench', `segment-person-${profiles}-changed${changed}-left${left}.csv`);
  const out = createWriteStream(file);
  out.write('CustomerId,EMail,FirstName,LastName\n');
  // The changed ones are spread over the segment (every n-th person), not one block.
  const every = Math.max(1, Math.floor((profiles - left) / Math.max(changed, 1)));
  let changes = 0;
  for (let i = 1; i <= profiles - left; i++) {
    const change = changes < changed && i % every === 0;
    if (change) changes++;
    if (!out.write(`C-${i},person${i}@example.com,${change ? `Renamed${i}` : `First${i}`},Last${i}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}

async function main(): Promise<void> {
  const file = await segmentFile(opts.profiles);
  const bench = await startBenchStack({ simulatorRps: opts.rps });
  try {
    const tenant = await createTenant(bench, { profiles: opts.profiles, file, name: 'incr' });
    const quotaUsed = async () => (await tenant.api<{ used: number }>('GET', `/v1/tenants/${tenant.tenantId}/quota`)).used;
    const publish = async (snapshot: string): Promise<number> => {
      const location = placeSnapshot(tenant.tenantId, snapshot, `${randomUUID()}.csv`, bench.stack.snapshotRoot);
      const at = Date.now();
      await produceRaw(TOPICS.segmentRefreshed.name, [
        {
          key: `${tenant.tenantId}:${tenant.segmentId}`,
          value: JSON.stringify({
            eventId: randomUUID(),
            occurredAt: new Date().toISOString(),
            tenantId: tenant.tenantId,
            segment: { id: tenant.segmentId, name: 'Bench incr', memberCount: opts.profiles },
            snapshot: { format: 'csv', location: pathToFileURL(location).href },
          }),
        },
      ]);
      return at;
    };
    console.log(`${opts.name}: ${opts.profiles} profiles, simulator and delivery at ${opts.rps || 'unthrottled'} r/s; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    const measure = async (label: string, snapshot: string, previous: Run | undefined): Promise<RunFigures> => {
      const before = await bench.simulator<SimStats>('/stats');
      const usedBefore = await quotaUsed();
      let firstCallAt: number | undefined;
      const watcher = setInterval(async () => {
        const stats = await bench.simulator<SimStats>('/stats').catch(() => undefined);
        if (!firstCallAt && stats && (stats.keys[tenant.apiKey]?.requests ?? 0) > (before.keys[tenant.apiKey]?.requests ?? 0)) firstCallAt = Date.now();
      }, 100);
      const at = await publish(snapshot);
      const run = await waitForNewRun(tenant, previous);
      const ended = Date.now();
      clearInterval(watcher);
      const after = await bench.simulator<SimStats>('/stats');
      const delta = (routes: string[]) =>
        routes.reduce((sum, route) => sum + count(after, route) - count(before, route), 0);
      const key = after.keys[tenant.apiKey];
      const requests = (key?.requests ?? 0) - (before.keys[tenant.apiKey]?.requests ?? 0);
      const f: RunFigures = {
        run: label,
        status: run.status,
        reason: run.reason,
        counts: run.counts,
        eventToRunEndSeconds: secondsBetween(at, ended),
        firstCallToLastCallSeconds: firstCallAt && key?.lastAt ? secondsBetween(firstCallAt, key.lastAt) : undefined,
        contactCalls: delta(CONTACT_ROUTES),
        removalCalls: delta([REMOVAL_ROUTE]),
        listCalls: delta(LIST_ROUTES),
        requests,
        rateLimited429: (key?.rejected ?? 0) - (before.keys[tenant.apiKey]?.rejected ?? 0),
        quotaSpent: (await quotaUsed()) - usedBefore,
        loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
      };
      if (opts.rps && requests > 0) {
        // The calls the run's changes need: one bulk call per 100 sent, one per removal, the list look-ups.
        const needed = Math.ceil((run.counts['delivered'] ?? 0) / 100) + (run.counts['removed'] ?? 0) + f.listCalls;
        f.floorSeconds = Math.round((needed / opts.rps) * 10) / 10;
        if (f.firstCallToLastCallSeconds !== undefined)
          f.ratioToFloor = Math.round((f.firstCallToLastCallSeconds / f.floorSeconds) * 1000) / 1000;
      }
      console.log(
        `  ${label}: ${f.status}${f.reason ? ` (${f.reason})` : ''} ${JSON.stringify(f.counts)}\n` +
          `    event -> run end ${f.eventToRunEndSeconds} s; requests ${f.requests} (contact calls ${f.contactCalls}, removals ${f.removalCalls}, list calls ${f.listCalls}), 429 ${f.rateLimited429}, quota spent ${f.quotaSpent}` +
          (f.floorSeconds !== undefined ? `\n    first call -> last call ${f.firstCallToLastCallSeconds} s, floor ${f.floorSeconds} s, ratio ${f.ratioToFloor}` : '') +
          `\n    load average ${f.loadAverage.join(' ')}`,
      );
      return f;
    };

    const first = await measure('run 1: first load', file, undefined);
    const unchanged = await measure('run 2: unchanged', file, await tenant.latestRun());
    const changedCount = Math.round(opts.profiles / 100);
    const leftCount = Math.round(opts.profiles / 1000);
    const variant = await variantFile(opts.profiles, changedCount, leftCount);
    const changed = await measure(`run 3: ${changedCount} changed, ${leftCount} left`, variant, await tenant.latestRun());
    const contacts = await tenant.contacts();
    const peaks = await bench.peaks();
    console.log(`  simulator: ${contacts.count} contacts; peak RSS MiB ${JSON.stringify(peaks)}`);

    const charts: Chart[] = [
      {
        title: `${opts.name}: event to run end`,
        unit: 's',
        bars: [
          { label: 'run 1 first load', value: first.eventToRunEndSeconds },
          { label: 'run 2 unchanged', value: unchanged.eventToRunEndSeconds, target: 15 },
          { label: 'run 3 1% changed, 0.1% left', value: changed.eventToRunEndSeconds },
        ],
      },
      {
        title: 'run 3: first call to last call vs the floor of its calls',
        unit: 's',
        bars: [
          { label: 'floor (calls needed / rps)', value: changed.floorSeconds ?? 0 },
          { label: 'measured', value: changed.firstCallToLastCallSeconds ?? 0, target: (changed.floorSeconds ?? 0) * 1.05 },
        ],
      },
      {
        title: 'Autopilot calls per run',
        unit: '',
        bars: [first, unchanged, changed].map((f) => ({ label: f.run, value: f.requests })),
      },
      {
        title: 'quota spent per run',
        unit: 'profiles',
        bars: [first, unchanged, changed].map((f) => ({ label: f.run, value: f.quotaSpent })),
      },
    ];
    saveResult(
      opts.name,
      {
        options: opts,
        note: 'The machine is shared with other sessions (2 cores): loadAverage is os.loadavg() (1, 5, 15 min) at each run end.',
        runs: [first, unchanged, changed],
        simulatorContacts: contacts,
        peakRssMiB: peaks,
      },
      charts,
    );
  } finally {
    await bench.stop();
  }
}

function count(stats: SimStats, route: string): number {
  return Object.values(stats.requests.byRoute[route] ?? {}).reduce((a, b) => a + b, 0);
}

/** Waits for a run of the export newer than `previous` to end. */
async function waitForNewRun(tenant: Tenant, previous: Run | undefined): Promise<Run> {
  for (;;) {
    const run = await tenant.waitForRun();
    if (run.id !== previous?.id) return run;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
