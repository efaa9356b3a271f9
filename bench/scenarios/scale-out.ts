/**
 * Scale-out: many tenants with their own keys at once, each key limited (simulator and pacing) to `--rps`
 * (1 r/s: the destination, not this machine's CPU, is the bound), with 1, 2 and 4 delivery instances. Prints
 * and saves (bench/results/scale-out.*) per instance count: the time from the events to the last contact
 * acknowledged, the calls per second achieved, 429s, peak memory per delivery instance, and the backlog
 * gauges seen during the run (runs waiting for a sender slot).
 *
 *   --instances 1,2,4 --tenants 40 --profiles 5000 --rps 1 --rounds 3
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createTenant, RESULTS_DIR, segmentFile, startBenchStack, type BenchStack, type SimStats, type Tenant } from '../lib/harness';
import { saveResult, type Chart } from '../lib/report';

const opts = new Command('bench-scale-out')
  .option('--instances <list>', 'delivery instance counts to compare', '1,2,4')
  .option('--tenants <n>', 'tenants, each with its own key, export and segment', Number, 40)
  .option('--profiles <n>', 'profiles per tenant', Number, 5000)
  .option('--rps <n>', 'rate limit per key (simulator and pacing)', Number, 1)
  .option('--rounds <n>', 'runs of each instance count', Number, 1)
  .option('--max-runs <n>', 'DELIVERY_MAX_RUNS per instance', Number, 16)
  .option('--name <name>', 'result name', 'scale-out')
  .option('--append', 'add these rounds to those already in bench/results/<name>.json (same options)', false)
  .parse()
  .opts<{ instances: string; tenants: number; profiles: number; rps: number; rounds: number; maxRuns: number; name: string; append: boolean }>();

interface Round {
  instances: number;
  round: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  succeeded: number;
  delivered: number;
  /** Events published -> last contact acknowledged (all tenants). */
  allDeliveredSeconds: number;
  /** First call -> last contact of the busiest second... of all keys: calls admitted / that span. */
  callsPerSecond: number;
  requests: number;
  rateLimited429: number;
  maxAdmittedInWindow: number;
  /** Per key: events -> its last contact, min/median/max. */
  perKeySeconds: { min: number; median: number; max: number };
  peakRssMiB: Record<string, number>;
  /** Largest value of the backlog gauges seen on instance 0 (sampled every second). */
  maxRunsWaiting: number;
  maxRunsLeased: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

async function gauge(url: string, name: string, state: string): Promise<number | undefined> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text()).catch(() => '');
  // Default labels (service, ...) come along: match the one label that matters among them.
  const match = new RegExp(`^${name}\\{[^}]*run_state="${state}"[^}]*\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

async function createTenants(bench: BenchStack, file: string): Promise<Tenant[]> {
  const tenants: Tenant[] = [];
  // Ten at a time: each waits for the control plane to know its segment.
  for (let i = 0; i < opts.tenants; i += 10) {
    const group = Array.from({ length: Math.min(10, opts.tenants - i) }, (_, j) =>
      createTenant(bench, { profiles: opts.profiles, file, name: `s${i + j + 1}` }),
    );
    tenants.push(...(await Promise.all(group)));
  }
  return tenants;
}

async function runOnce(instances: number, round: number, file: string): Promise<Round> {
  const bench = await startBenchStack({
    simulatorRps: opts.rps,
    deliveryInstances: instances,
    env: { 'autopilot-delivery': { DELIVERY_BACKLOG_REFRESH_MS: '1000', DELIVERY_MAX_RUNS: String(opts.maxRuns) } },
  });
  try {
    const tenants = await createTenants(bench, file);
    const before = await bench.simulator<SimStats>('/stats');
    const delivery0 = bench.stack.services['autopilot-delivery-0'];
    const metricsUrl = `http://127.0.0.1:${delivery0.port}`;
    let maxRunsWaiting = 0;
    let maxRunsLeased = 0;
    const sampler = setInterval(async () => {
      maxRunsWaiting = Math.max(maxRunsWaiting, (await gauge(metricsUrl, 'autopilot_delivery_backlog_runs', 'waiting')) ?? 0);
      maxRunsLeased = Math.max(maxRunsLeased, (await gauge(metricsUrl, 'autopilot_delivery_backlog_runs', 'leased')) ?? 0);
    }, 1000);
    const loadAverageAtStart = load();
    console.log(`${instances} instance(s), round ${round}: ${opts.tenants} tenants x ${opts.profiles} profiles at ${opts.rps} r/s per key; load ${loadAverageAtStart.join(', ')}`);
    const published = await Promise.all(tenants.map((t) => t.publish()));
    const start = Math.min(...published);
    const runs = await Promise.all(tenants.map((t) => t.waitForRun({ timeoutMs: 30 * 60_000 })));
    clearInterval(sampler);
    const stats = await bench.simulator<SimStats>('/stats');
    const keys = tenants.map((t) => ({ now: stats.keys[t.apiKey], before: before.keys[t.apiKey] }));
    const lastAts = keys.map((k) => Date.parse(k.now?.lastAt ?? new Date().toISOString()));
    const firstAts = keys.map((k) => Date.parse(k.now?.firstAt ?? new Date().toISOString()));
    const requests = keys.reduce((n, k) => n + (k.now?.admitted ?? 0) - (k.before?.admitted ?? 0), 0);
    const perKey = lastAts.map((t) => (t - start) / 1000).sort((a, b) => a - b);
    const peaks = await bench.peaks();
    const result: Round = {
      instances,
      round,
      loadAverageAtStart,
      loadAverageAtEnd: load(),
      succeeded: runs.filter((r) => r.status === 'succeeded').length,
      delivered: runs.reduce((n, r) => n + (r.counts['delivered'] ?? 0), 0),
      allDeliveredSeconds: round1((Math.max(...lastAts) - start) / 1000),
      callsPerSecond: round1(requests / ((Math.max(...lastAts) - Math.min(...firstAts)) / 1000)),
      requests,
      rateLimited429: keys.reduce((n, k) => n + (k.now?.rejected ?? 0) - (k.before?.rejected ?? 0), 0),
      maxAdmittedInWindow: Math.max(...keys.map((k) => k.now?.maxAdmittedInWindow ?? 0)),
      perKeySeconds: { min: round1(perKey[0]), median: round1(perKey[Math.floor(perKey.length / 2)]), max: round1(perKey[perKey.length - 1]) },
      peakRssMiB: Object.fromEntries(Object.entries(peaks).filter(([name]) => name.startsWith('autopilot-delivery'))),
      maxRunsWaiting,
      maxRunsLeased,
    };
    console.log(`  ${JSON.stringify(result)}`);
    return result;
  } finally {
    await bench.stop();
  }
}

async function main(): Promise<void> {
  const file = await segmentFile(opts.profiles, 'scale');
  const counts = opts.instances.split(',').map(Number);
  const previous = join(RESULTS_DIR, `${opts.name}.json`);
  const rounds: Round[] = opts.append && existsSync(previous) ? (JSON.parse(readFileSync(previous, 'utf8')) as { rounds: Round[] }).rounds : [];
  const first = Math.max(0, ...rounds.map((r) => r.round)) + 1;
  for (let round = first; round < first + opts.rounds; round++) {
    for (const instances of counts) rounds.push(await runOnce(instances, round, file));
  }
  const floor = opts.profiles / 100 / opts.rps;
  const summary = counts.map((instances) => {
    const mine = rounds.filter((r) => r.instances === instances);
    const sorted = (f: (r: Round) => number) => mine.map(f).sort((a, b) => a - b);
    const mmm = (f: (r: Round) => number) => {
      const v = sorted(f);
      return { min: v[0], median: v[Math.floor(v.length / 2)], max: v[v.length - 1] };
    };
    // With S sender slots per instance, the runs go in waves of S x instances, each at least one key's floor.
    const waves = Math.ceil(opts.tenants / (opts.maxRuns * instances));
    return {
      instances,
      runs: mine.length,
      allDeliveredSeconds: mmm((r) => r.allDeliveredSeconds),
      callsPerSecond: mmm((r) => r.callsPerSecond),
      rateLimited429: mmm((r) => r.rateLimited429),
      peakRssMiBPerInstance: mmm((r) => Math.max(...Object.values(r.peakRssMiB))),
      waves,
      boundSeconds: waves * floor,
      bound:
        opts.tenants <= opts.maxRuns * instances
          ? `per-key rate: every run sends at once, each key's ${floor} s floor`
          : `sender slots: ${opts.maxRuns * instances} runs at a time, ${waves} waves of >= ${floor} s`,
    };
  });
  for (const s of summary) console.log(JSON.stringify(s));
  const charts: Chart[] = [
    {
      title: `${opts.tenants} tenants x ${opts.profiles} profiles, ${opts.rps} r/s per key: events to all delivered (median)`,
      unit: 's',
      bars: summary.map((s) => ({ label: `${s.instances} instance(s)`, value: s.allDeliveredSeconds.median, target: s.boundSeconds })),
    },
    {
      title: `calls per second achieved (ceiling ${opts.tenants * opts.rps}: every key at its rate)`,
      unit: '/s',
      bars: summary.map((s) => ({ label: `${s.instances} instance(s)`, value: s.callsPerSecond.median, target: opts.tenants * opts.rps })),
    },
    {
      title: 'peak RSS per delivery instance (max)',
      unit: 'MiB',
      bars: summary.map((s) => ({ label: `${s.instances} instance(s)`, value: s.peakRssMiBPerInstance.max, target: 300 })),
    },
    { title: '429 answers (all keys)', unit: '', bars: summary.map((s) => ({ label: `${s.instances} instance(s)`, value: s.rateLimited429.max, target: 0 })) },
  ];
  saveResult(opts.name, { options: opts, floorSecondsPerKey: floor, summary, rounds }, charts);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
