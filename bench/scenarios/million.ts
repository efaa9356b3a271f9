/**
 * Scenario 4: 1,000,000 profile rows through the whole pipeline (all services as processes, real Kafka and
 * PostgreSQL), simulator unthrottled; reports each service's peak RSS (VmHWM). The export keeps the default
 * limit (100,000 profiles, limitPolicy skip), so the run is skipped at delivery once every row is staged:
 * nothing is sent, memory is what this measures. `--policy truncate` sends the first 100,000 instead.
 */
import { Command } from 'commander';
import { createTenant, secondsBetween, segmentFile, startBenchStack } from '../lib/harness';
import { saveResult } from '../lib/report';

const opts = new Command('bench-million')
  .option('--rows <n>', 'rows in the segment', Number, 1_000_000)
  .option('--policy <policy>', 'limitPolicy of the export (skip|truncate)', 'skip')
  .parse()
  .opts<{ rows: number; policy: string }>();

async function main(): Promise<void> {
  const file = await segmentFile(opts.rows);
  const bench = await startBenchStack({ simulatorRps: 0 });
  try {
    const tenant = await createTenant(bench, { profiles: opts.rows, file, name: 'million', exportFields: { limitPolicy: opts.policy } });
    const idle = await bench.peaks();
    console.log(`million: ${opts.rows.toLocaleString('en-US')} rows, limitPolicy ${opts.policy}; peak RSS before the run ${JSON.stringify(idle)}`);
    const at = await tenant.publish();
    const run = await tenant.waitForRun();
    const seconds = secondsBetween(at, Date.now());
    const peaks = await bench.peaks();
    console.log(`  run ${run.status}${run.reason ? ` (${run.reason})` : ''} ${seconds} s after the event; counts ${JSON.stringify(run.counts)}`);
    console.log(`  peak RSS MiB ${JSON.stringify(peaks)}`);
    saveResult(
      `million-rows-${opts.policy}`,
      { options: opts, status: run.status, reason: run.reason, counts: run.counts, eventToRunEndSeconds: seconds, peakRssMiB: peaks, rssBeforeRunMiB: idle },
      [{ title: `peak RSS per service, ${opts.rows.toLocaleString('en-US')} rows (${run.status})`, unit: 'MiB', bars: Object.entries(peaks).map(([label, value]) => ({ label, value, target: 300 })) }],
    );
  } finally {
    await bench.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
