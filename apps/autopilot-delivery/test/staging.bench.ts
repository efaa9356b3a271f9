/**
 * Staging alone: 100,000 contacts of one run (200 batches of 500) written into the delivery ledger by three
 * lanes at once, as the staging consumer's three partitions do, on a fresh database. Prints and saves
 * (bench/results/staging-100k.json and .md) min/median/max of the rounds. Here rather than under bench/ because it
 * drives the ledger's repository directly, which only the app's own code may import.
 *
 *   --batches 200 --rows 500 --lanes 3 --rounds 3
 */
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPool, migrateDatabase } from '@export/database';
import { createTestDatabase, WORKSPACE_ROOT } from '@export/testing';
import { Command } from 'commander';
import pino from 'pino';
import { SCHEMA } from '../src/database/prepare-database';
import { StagingRepository } from '../src/staging/staging.repository';
import { benchRunSpec, stageBenchRun } from './support/bench-run';

const opts = new Command('bench-staging')
  .option('--batches <n>', 'batches of the run', Number, 200)
  .option('--rows <n>', 'contacts per batch', Number, 500)
  .option('--lanes <n>', 'batches staged at once', Number, 3)
  .option('--rounds <n>', 'runs staged, each on a fresh database', Number, 3)
  .option('--name <name>', 'result name', 'staging-100k')
  .parse()
  .opts<{ batches: number; rows: number; lanes: number; rounds: number; name: string }>();

async function round(): Promise<number> {
  const db = await createTestDatabase('bench_staging');
  const dir = join(WORKSPACE_ROOT, 'apps/autopilot-delivery/src/migrations');
  await migrateDatabase(db.url, { schema: SCHEMA, dir, logger: pino({ level: 'silent' }) });
  const pool = createPool(db.url, { max: opts.lanes + 1 });
  try {
    const staging = new StagingRepository(pool);
    const spec = benchRunSpec('truncate');
    const started = performance.now();
    await stageBenchRun(staging, spec, opts.batches, opts.rows, opts.lanes);
    return Math.round(performance.now() - started) / 1000;
  } finally {
    await pool.end();
    await db.drop();
  }
}

async function main(): Promise<void> {
  const loadAverageAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const seconds: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    seconds.push(await round());
    console.log(`round ${i + 1}: ${opts.batches} x ${opts.rows} staged in ${seconds[i]} s (load ${loadavg()[0].toFixed(2)})`);
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  const summary = { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
  const result = { name: opts.name, at: new Date().toISOString(), loadAverageAtStart, loadAverageAtEnd: loadavg(), options: opts, seconds, summary };
  const out = join(WORKSPACE_ROOT, 'bench', 'results', opts.name);
  writeFileSync(`${out}.json`, JSON.stringify(result, null, 2) + '\n');
  const line = `${(opts.batches * opts.rows).toLocaleString('en-US')} contacts staged by ${opts.lanes} lanes: ${seconds.join(' / ')} s (min ${summary.min}, median ${summary.median}, max ${summary.max}); load average at the start ${loadAverageAtStart.join(', ')}`;
  writeFileSync(`${out}.md`, `# ${opts.name}\n\n${line}\n`);
  console.log(line);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
