/**
 * Retention: ten runs of one 100,000-profile export through the whole pipeline (services as processes, real
 * Kafka and PostgreSQL, simulator unthrottled); after each run (once delivery has released its staged
 * contacts) prints the size of the ledger's and the control plane's tables (pg_total_relation_size: heap,
 * indexes, TOAST). `--keep-ledger` turns the release off (RETENTION_SWEEP_MS of a day) to show what the
 * ledger grew to before retention.
 */
import { Command } from 'commander';
import { Client } from 'pg';
import { createTenant, segmentFile, startBenchStack } from '../lib/harness';
import { saveResult } from '../lib/report';

const opts = new Command('bench-retention')
  .option('--profiles <n>', 'profiles in the segment', Number, 100_000)
  .option('--runs <n>', 'runs of the export', Number, 10)
  .option('--keep-ledger', 'do not release ended runs (the ledger as it was before retention)', false)
  .option('--log-level <level>', 'log level of the services (logs under tmp/logs)', 'warn')
  .parse()
  .opts<{ profiles: number; runs: number; keepLedger: boolean; logLevel: string }>();

const TABLES = [
  'delivery.run_contacts',
  'delivery.export_contacts',
  'delivery.runs',
  'delivery.staged_batches',
  'control_plane.runs',
  'control_plane.rejections',
];

async function main(): Promise<void> {
  const file = await segmentFile(opts.profiles);
  const bench = await startBenchStack({
    simulatorRps: 0,
    logLevel: opts.logLevel,
    env: { 'autopilot-delivery': { RETENTION_SWEEP_MS: opts.keepLedger ? '86400000' : '1000' } },
  });
  const pg = new Client({ connectionString: bench.stack.databaseUrl });
  await pg.connect();
  const name = opts.keepLedger ? 'retention-kept-ledger' : 'retention';
  try {
    const tenant = await createTenant(bench, { profiles: opts.profiles, file, name: 'retention' });
    const sizes = async () => {
      const { rows } = await pg.query<{ name: string; bytes: string }>(
        `SELECT t AS name, pg_total_relation_size(t::regclass) AS bytes FROM unnest($1::text[]) AS t`,
        [TABLES],
      );
      const rowsIn = await pg.query<{ n: string }>('SELECT count(*) AS n FROM delivery.run_contacts');
      return {
        mib: Object.fromEntries(rows.map((r) => [r.name, Math.round((Number(r.bytes) / 2 ** 20) * 10) / 10])),
        stagedContactRows: Number(rowsIn.rows[0].n),
      };
    };
    const after: { run: number; status: string; delivered: number; seconds: number; mib: Record<string, number>; stagedContactRows: number }[] = [];
    console.log(`retention: ${opts.runs} runs of ${opts.profiles.toLocaleString('en-US')} profiles, one export${opts.keepLedger ? ' (ledger kept)' : ''}`);
    for (let i = 1; i <= opts.runs; i++) {
      // The run this event queues is the newest one that is not the previous run.
      const previous = (await tenant.latestRun())?.id;
      const at = await tenant.publish();
      const run = previous
        ? await waitForNewRun(tenant, previous)
        : await tenant.waitForRun({ timeoutMs: 10 * 60_000 });
      const seconds = Math.round((Date.now() - at) / 100) / 10;
      if (!opts.keepLedger) {
        await waitFor(async () => {
          const { rows } = await pg.query<{ done: boolean }>(
            'SELECT contacts_purged_at IS NOT NULL AS done FROM delivery.runs WHERE run_id = $1',
            [run.id],
          );
          return rows[0]?.done === true;
        }, `the staged contacts of run ${i} released`).catch(async (error) => {
          const ledger = await pg.query('SELECT run_id, state, finished_at, contacts_purged_at FROM delivery.runs');
          const activity = await pg.query(
            `SELECT state, wait_event_type, wait_event, now() - query_start AS running, left(query, 200) AS query
               FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
          );
          console.error({ run: run.id, ledger: ledger.rows, activity: activity.rows });
          throw error;
        });
      }
      const measured = await sizes();
      after.push({ run: i, status: run.status, delivered: run.counts['delivered'] ?? 0, seconds, ...measured });
      console.log(
        `  run ${i}: ${run.status}, ${run.counts['delivered']} delivered, ${seconds} s; ` +
          TABLES.map((t) => `${t} ${measured.mib[t]} MiB`).join(', ') +
          `; staged contact rows ${measured.stagedContactRows}`,
      );
    }
    saveResult(
      name,
      { options: opts, tables: TABLES, afterEachRun: after },
      [
        {
          title: `delivery.run_contacts after each of ${opts.runs} runs of ${opts.profiles.toLocaleString('en-US')} profiles${opts.keepLedger ? ' (ledger kept)' : ''}`,
          unit: 'MiB',
          bars: after.map((a) => ({ label: `run ${a.run}`, value: a.mib['delivery.run_contacts'] })),
        },
        {
          title: `all ledger tables (delivery.*) after each run`,
          unit: 'MiB',
          bars: after.map((a) => ({
            label: `run ${a.run}`,
            value: Math.round(TABLES.filter((t) => t.startsWith('delivery.')).reduce((s, t) => s + a.mib[t], 0) * 10) / 10,
          })),
        },
      ],
    );
  } finally {
    await pg.end();
    await bench.stop();
  }
}

async function waitFor(probe: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function waitForNewRun(
  tenant: Awaited<ReturnType<typeof createTenant>>,
  previous: string,
): Promise<NonNullable<Awaited<ReturnType<typeof tenant.latestRun>>>> {
  let found: Awaited<ReturnType<typeof tenant.latestRun>>;
  await waitFor(async () => {
    found = await tenant.latestRun();
    return !!found && found.id !== previous && ['succeeded', 'failed', 'skipped', 'canceled'].includes(found.status);
  }, 'the new run to end', 10 * 60_000);
  return found!;
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
