/**
 * What the delivery ledger costs PostgreSQL for one unthrottled run of 100,000 new contacts, phase by phase,
 * through the repositories the service uses (no Kafka, no Autopilot, no other service): stage the run's batches
 * (three lanes, as the staging consumer's three partitions), record its end, lease it, decide it (the diff
 * against the export's destination state, the limit, the quota), then read the pending contacts (pages of 1,000)
 * and mark them sent as the sender does after each confirmed call, and finish. Prints and saves (bench/results/<name>.json and
 * .md) the wall time and PostgreSQL's CPU seconds of each phase, and PostgreSQL's CPU per contact, for each
 * round (a fresh database each). PostgreSQL's CPU is read from /proc (every postgres process), so run it on an
 * otherwise idle machine. It tells how much of the pipeline's CPU budget the ledger alone takes.
 *
 *   --batches 1000 --rows 100 --lanes 3 --call 100 --rounds 3
 */
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPool, migrateDatabase } from '@export/database';
import { cpuSnapshot, createTestDatabase, WORKSPACE_ROOT } from '@export/testing';
import { Command } from 'commander';
import pino from 'pino';
import { SCHEMA } from '../src/database/prepare-database';
import { RunsRepository } from '../src/runs/runs.repository';
import { StagingRepository } from '../src/staging/staging.repository';
import { benchRunSpec, stageBenchRun } from './support/bench-run';

const opts = new Command('bench-ledger-cpu')
  .option('--batches <n>', 'batches of the run', Number, 1_000)
  .option('--rows <n>', 'contacts per batch', Number, 100)
  .option('--lanes <n>', 'batches staged at once', Number, 3)
  .option('--call <n>', 'contacts per Autopilot call (marked sent at once)', Number, 100)
  .option('--rounds <n>', 'runs, each on a fresh database', Number, 3)
  .option('--name <name>', 'result name', 'ledger-cpu-100k')
  .parse()
  .opts<{ batches: number; rows: number; lanes: number; call: number; rounds: number; name: string }>();

const PHASES = ['stage', 'decide', 'deliver', 'finish'] as const;
type Phase = (typeof PHASES)[number];
type Round = Record<Phase, { seconds: number; postgresqlCpu: number }>;

const OWNER = 'bench-ledger';

async function postgresqlCpu(): Promise<number> {
  return (await cpuSnapshot({})).postgresql;
}

async function round(): Promise<Round> {
  const db = await createTestDatabase('bench_ledger');
  const dir = join(WORKSPACE_ROOT, 'apps/autopilot-delivery/src/migrations');
  await migrateDatabase(db.url, { schema: SCHEMA, dir, logger: pino({ level: 'silent' }) });
  const pool = createPool(db.url, { max: opts.lanes + 1 });
  const result = {} as Round;
  const measure = async (phase: Phase, work: () => Promise<void>): Promise<void> => {
    const cpu = await postgresqlCpu();
    const started = performance.now();
    await work();
    const seconds = Math.round(performance.now() - started) / 1000;
    result[phase] = { seconds, postgresqlCpu: Math.round(((await postgresqlCpu()) - cpu) * 100) / 100 };
  };
  try {
    const staging = new StagingRepository(pool);
    const runs = new RunsRepository(pool);
    const spec = benchRunSpec('skip');
    const lists = { 'seg-a': 'contactlist_bench' };
    await measure('stage', async () => {
      await stageBenchRun(staging, spec, opts.batches, opts.rows, opts.lanes);
      await staging.recordEnd(spec, opts.batches, opts.batches * opts.rows, spec.runId);
    });
    await measure('decide', async () => {
      const [leased] = await runs.lease(OWNER, 1, 60_000);
      if (leased?.runId !== spec.runId) throw new Error(`the run was not leased (${leased?.runId ?? 'none'})`);
      const decision = await runs.decide(OWNER, leased, lists, async () => undefined);
      if (decision?.action !== 'deliver') throw new Error(`the run was not decided to deliver: ${JSON.stringify(decision)}`);
    });
    let sent = 0;
    await measure('deliver', async () => {
      // As the sender: fresh planner statistics first, then pages of 1,000 pending contacts, marked per call.
      await runs.refreshStatistics(spec.runId);
      for (let after = -1; ; ) {
        const page = await runs.pending(spec.runId, after, 1_000);
        if (page.length === 0) break;
        after = page[page.length - 1].seq;
        for (let i = 0; i < page.length; i += opts.call) {
          const emails = page.slice(i, i + opts.call).map((p) => p.email);
          const contactIds = Object.fromEntries(emails.map((e) => [e, `person_${e}`]));
          const marked = await runs.markSent(OWNER, spec.runId, emails, {
            tenantId: spec.tenantId,
            connectionId: spec.connectionId,
            exportId: spec.exportId,
            contactIds,
            lists,
          });
          sent += marked.sent;
        }
      }
    });
    const total = opts.batches * opts.rows;
    if (sent !== total) throw new Error(`${sent} contacts marked sent, expected ${total}`);
    await measure('finish', async () => {
      const counts = await runs.finish(OWNER, spec.runId, 'succeeded', null, async () => undefined);
      if (counts?.delivered !== total) throw new Error(`finish counted ${JSON.stringify(counts)}`);
    });
    return result;
  } finally {
    await pool.end();
    await db.drop();
  }
}

function line(r: Round, contacts: number): string {
  const cpu = PHASES.reduce((sum, p) => sum + r[p].postgresqlCpu, 0);
  const wall = PHASES.reduce((sum, p) => sum + r[p].seconds, 0);
  const phases = PHASES.map((p) => `${p} ${r[p].seconds} s wall / ${r[p].postgresqlCpu} CPU s`).join(', ');
  return `${phases}; total ${wall.toFixed(2)} s wall, PostgreSQL ${cpu.toFixed(2)} CPU s = ${Math.round((cpu * 1e6) / contacts)} µs per contact`;
}

async function main(): Promise<void> {
  const loadAverageAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const contacts = opts.batches * opts.rows;
  const rounds: Round[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    rounds.push(await round());
    console.log(`round ${i + 1}: ${line(rounds[i], contacts)} (load ${loadavg()[0].toFixed(2)})`);
  }
  const result = { name: opts.name, at: new Date().toISOString(), loadAverageAtStart, loadAverageAtEnd: loadavg(), options: opts, contacts, rounds };
  const out = join(WORKSPACE_ROOT, 'bench', 'results', opts.name);
  writeFileSync(`${out}.json`, JSON.stringify(result, null, 2) + '\n');
  const md = [
    `# ${opts.name}`,
    '',
    `${contacts.toLocaleString('en-US')} new contacts of one skip run through the delivery ledger's repositories: ${opts.batches} batches of ${opts.rows} staged by ${opts.lanes} lanes, decided, marked sent ${opts.call} per call, finished. Load average at the start ${loadAverageAtStart.join(', ')}.`,
    '',
    ...rounds.map((r, i) => `- round ${i + 1}: ${line(r, contacts)}`),
    '',
  ].join('\n');
  writeFileSync(`${out}.md`, md);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
