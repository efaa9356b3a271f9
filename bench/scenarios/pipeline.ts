/**
 * Whole-pipeline scenarios: segment-refreshed events go through all four services (separate processes, real
 * Kafka, PostgreSQL, Redis) into the Autopilot simulator. Prints and saves (bench/results/<name>.*) the time
 * from the event to the last contact acknowledged, pacing figures per key and each service's peak memory.
 *
 *   --rps 0 --reference             scenario 1 (+ scenario 6: the minimal reference pipeline, same rows)
 *   --rps 5 [--margin 4]            scenario 2 (pacing margin: the service's default, or the given ms)
 *   --rps 5 --deliveries 2          scenario 3a: two delivery instances sharing one key
 *   --rps 5 --keys 2                scenario 3b: two tenants/keys exporting at once
 *   --rps 5 --fairness              scenario 5: another tenant's 1,000-profile export during the 100k one
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { cpuDifference, cpuSnapshot, expectEventually } from '@export/testing';
import { Command } from 'commander';
import { createTenant, secondsBetween, segmentFile, startBenchStack, type BenchStack, type Run, type SimStats, type Tenant } from '../lib/harness';
import { saveResult, type Chart } from '../lib/report';
import { runReference } from './reference';

const opts = new Command('bench-pipeline')
  .requiredOption('--name <name>', 'result name (bench/results/<name>.*)')
  .option('--profiles <n>', 'profiles in the segment', Number, 100000)
  .option('--rps <n>', 'simulator rate limit per key (0 = unthrottled)', Number, 0)
  .option('--margin <ms>', 'AUTOPILOT_PACING_MARGIN_MS (default: the service default)')
  .option('--deliveries <n>', 'delivery instances', Number, 1)
  .option('--keys <n>', 'tenants exporting at once, each with its own key', Number, 1)
  .option('--fairness', "start another tenant's 1,000-profile export while the big run delivers", false)
  .option('--reference', 'also run the minimal reference pipeline on the same rows', false)
  .option('--calls-per-run <n>', 'DELIVERY_CALLS_PER_RUN (default: the service default)')
  .option('--policy <policy>', "the export's limitPolicy: skip (the product's default) or truncate", 'skip')
  .option('--log-level <level>', 'LOG_LEVEL of every service (logs under tmp/logs/stack-*)', 'warn')
  .option('--cpu-prof <dir>', 'V8 CPU profile of every service (<dir>/<service>/*.cpuprofile, written when it stops)')
  .parse()
  .opts<{ name: string; profiles: number; rps: number; margin?: string; deliveries: number; keys: number; fairness: boolean; reference: boolean; cpuProf?: string; logLevel: string; policy: string; callsPerRun?: string }>();

const SERVICES = ['connection-management', 'segment-extraction', 'field-mapping', 'autopilot-delivery', 'autopilot-simulator'];

/** Per service: the pacing margin and bulk calls in flight per run (delivery). */
function serviceEnv(): Record<string, Record<string, string>> {
  const delivery: Record<string, string> = {};
  if (opts.margin !== undefined) delivery['AUTOPILOT_PACING_MARGIN_MS'] = opts.margin;
  if (opts.callsPerRun !== undefined) delivery['DELIVERY_CALLS_PER_RUN'] = opts.callsPerRun;
  return { 'autopilot-delivery': delivery };
}

/** When profiling: --cpu-prof for every service, one folder each. */
function nodeArgs(): Record<string, string[]> {
  if (!opts.cpuProf) return {};
  const dir = opts.cpuProf;
  return Object.fromEntries(SERVICES.map((app) => [app, ['--cpu-prof', `--cpu-prof-dir=${resolve(dir, app)}`]]));
}

interface KeyFigures {
  tenant: string;
  status: string;
  reason?: string;
  counts: Record<string, number>;
  eventToLastContactSeconds: number;
  eventToRunEndSeconds: number;
  firstCallToLastContactSeconds?: number;
  floorSeconds?: number;
  ratioToFloor?: number;
  sendingRatioToFloor?: number;
  requests: number;
  rateLimited429: number;
  maxAdmittedInWindow: number;
  maxRequestsInWindow: number;
  minAdmittedGapMs: number | null;
  contactsInSimulator: number;
  duplicatesSent: number;
}

/** Mean time from admission to answer of the bulk calls, over every delivery instance (their /metrics). */
async function bulkCallLatency(bench: BenchStack): Promise<{ meanMs: number; calls: number } | undefined> {
  let sum = 0;
  let calls = 0;
  for (const [name, service] of Object.entries(bench.stack.services)) {
    if (!name.startsWith('autopilot-delivery')) continue;
    const text = await fetch(`http://127.0.0.1:${service.port}/metrics`).then((r) => r.text()).catch(() => '');
    const value = (suffix: string) =>
      Number(new RegExp(`^autopilot_call_duration_seconds_${suffix}\\{[^}]*route="POST /contacts"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    sum += value('sum');
    calls += value('count');
  }
  return calls ? { meanMs: Math.round((sum / calls) * 10000) / 10, calls } : undefined;
}

async function main(): Promise<void> {
  const file = await segmentFile(opts.profiles);
  const bench = await startBenchStack({
    simulatorRps: opts.rps,
    deliveryInstances: opts.deliveries,
    env: serviceEnv(),
    nodeArgs: nodeArgs(),
    logLevel: opts.logLevel,
  });
  try {
    const tenants: Tenant[] = [];
    for (let i = 0; i < opts.keys; i++) tenants.push(await createTenant(bench, { profiles: opts.profiles, file, name: `t${i + 1}`, exportFields: { limitPolicy: opts.policy } }));
    const small = opts.fairness
      ? await createTenant(bench, { profiles: 1000, file: await segmentFile(1000, 'small'), name: 'small' })
      : undefined;
    const before = await bench.simulator<SimStats>('/stats');
    const firstCall = new Map<string, number>();
    // Unthrottled runs are not watched (no floor to compare with; the polls would only take CPU).
    const watcher = setInterval(async () => {
      if (!opts.rps && !opts.fairness) return;
      const stats = await bench.simulator<SimStats>('/stats').catch(() => undefined);
      for (const t of tenants) {
        if (!firstCall.has(t.apiKey) && stats && (stats.keys[t.apiKey]?.requests ?? 0) > (before.keys[t.apiKey]?.requests ?? 0)) {
          firstCall.set(t.apiKey, Date.now());
        }
      }
    }, 200);

    const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
    console.log(`${opts.name}: load average at the start ${loadAtStart.join(', ')}`);
    console.log(`${opts.name}: ${opts.keys} x ${opts.profiles} profiles, simulator ${opts.rps || 'unthrottled'} r/s, ${opts.deliveries} delivery instance(s), margin ${opts.margin ?? 'default'} ms, limitPolicy ${opts.policy}`);
    const cpuBefore = await cpuSnapshot(bench.stack.services);
    const published = await Promise.all(tenants.map((t) => t.publish()));
    let fairness: Record<string, unknown> | undefined;
    const smallDone = small
      ? (async () => {
          // Once the big run is sending, the small tenant's segment is refreshed.
          await expectEventually(() => firstCall.has(tenants[0].apiKey), {
            timeoutMs: 120000,
            message: 'the big run to start sending',
          });
          const bigSent = (await bench.simulator<SimStats>('/stats')).contacts.byAccount[tenants[0].apiKey] ?? 0;
          const at = await small.publish();
          const run = await small.waitForRun();
          const stats = await bench.simulator<SimStats>('/stats');
          fairness = {
            status: run.status,
            counts: run.counts,
            eventToRunEndSeconds: secondsBetween(at, Date.now()),
            eventToLastContactSeconds: secondsBetween(at, stats.keys[small.apiKey]?.lastAt ?? Date.now()),
            bigRunContactsInSimulatorWhenStarted: bigSent,
          };
          console.log(`  fairness: the 1,000-profile export of another tenant ended ${run.status} ${fairness['eventToLastContactSeconds']} s after its event`);
        })()
      : Promise.resolve();
    const runs: Run[] = await Promise.all(tenants.map((t) => t.waitForRun()));
    const ended = Date.now();
    await smallDone;
    const cpuSeconds = cpuDifference(cpuBefore, await cpuSnapshot(bench.stack.services));
    console.log(`  CPU seconds from the event to the run's end: ${JSON.stringify(cpuSeconds)}`);
    clearInterval(watcher);
    const stats = await bench.simulator<SimStats>('/stats');
    const floor = opts.rps ? opts.profiles / 100 / opts.rps : undefined;
    const figures: KeyFigures[] = [];
    for (const [i, t] of tenants.entries()) {
      const key = stats.keys[t.apiKey];
      const lastAt = key?.lastAt ?? new Date(ended).toISOString();
      const contacts = await t.contacts();
      const first = firstCall.get(t.apiKey);
      const f: KeyFigures = {
        tenant: `t${i + 1}`,
        status: runs[i].status,
        reason: runs[i].reason,
        counts: runs[i].counts,
        eventToLastContactSeconds: secondsBetween(published[i], lastAt),
        eventToRunEndSeconds: secondsBetween(published[i], ended),
        firstCallToLastContactSeconds: first ? secondsBetween(first, lastAt) : undefined,
        floorSeconds: floor,
        requests: (key?.requests ?? 0) - (before.keys[t.apiKey]?.requests ?? 0),
        rateLimited429: (key?.rejected ?? 0) - (before.keys[t.apiKey]?.rejected ?? 0),
        maxAdmittedInWindow: key?.maxAdmittedInWindow ?? 0,
        maxRequestsInWindow: key?.maxRequestsInWindow ?? 0,
        minAdmittedGapMs: key?.minAdmittedGapMs ?? null,
        contactsInSimulator: contacts.count,
        duplicatesSent: contacts.duplicates,
      };
      if (floor) {
        f.ratioToFloor = Math.round((f.eventToLastContactSeconds / floor) * 1000) / 1000;
        if (f.firstCallToLastContactSeconds) f.sendingRatioToFloor = Math.round((f.firstCallToLastContactSeconds / floor) * 1000) / 1000;
      }
      figures.push(f);
      console.log(
        `  ${f.tenant}: ${f.status} ${JSON.stringify(f.counts)}\n` +
          `    event -> last contact ${f.eventToLastContactSeconds} s (run end seen ${f.eventToRunEndSeconds} s)` +
          (floor ? `, floor ${floor} s, ratio ${f.ratioToFloor} (first call -> last contact ${f.firstCallToLastContactSeconds} s, ratio ${f.sendingRatioToFloor})` : '') +
          `\n    requests ${f.requests}, 429 ${f.rateLimited429}, max admitted in a 1 s window ${f.maxAdmittedInWindow}, max requests in a window ${f.maxRequestsInWindow}, min gap ${f.minAdmittedGapMs} ms` +
          `\n    contacts in simulator ${f.contactsInSimulator}, upserted more than once ${f.duplicatesSent}`,
      );
    }
    const peaks = await bench.peaks();
    console.log(`  peak RSS MiB ${JSON.stringify(peaks)}`);
    const callLatency = await bulkCallLatency(bench);
    if (callLatency) console.log(`  bulk calls, admission -> answer: mean ${callLatency.meanMs} ms over ${callLatency.calls} calls (the pacer holds each call's place until 1 s after its answer)`);
    let reference: Record<string, unknown> | undefined;
    if (opts.reference) {
      const apiKey = `bench-ref-${Date.now()}`;
      await bench.simulator('/keys', { method: 'POST', body: { key: apiKey } });
      const r = await runReference(file, bench.stack.simulatorUrl, apiKey);
      reference = { ...r, overheadRatio: Math.round((figures[0].eventToLastContactSeconds / r.seconds) * 100) / 100 };
      console.log(`  reference (CSV -> one topic -> bulk calls of 100, no services): ${r.acknowledged} rows in ${r.seconds} s; pipeline/reference ${reference['overheadRatio']}`);
    }
    const charts: Chart[] = [
      {
        title: `${opts.name}: event to last contact acknowledged`,
        unit: 's',
        bars: [
          ...figures.map((f) => ({ label: `${f.tenant} (${opts.profiles.toLocaleString('en-US')})`, value: f.eventToLastContactSeconds, target: floor ? floor * 1.03 : 15 })),
          ...(reference ? [{ label: 'reference pipeline', value: reference['seconds'] as number }] : []),
          ...(fairness ? [{ label: 'other tenant (1,000)', value: fairness['eventToLastContactSeconds'] as number }] : []),
        ],
      },
      {
        title: 'peak RSS per service',
        unit: 'MiB',
        bars: Object.entries(peaks).map(([label, value]) => ({ label, value, target: 300 })),
      },
    ];
    if (floor) {
      charts.push({ title: '429 answers per key', unit: '', bars: figures.map((f) => ({ label: f.tenant, value: f.rateLimited429, target: 0 })) });
    }
    saveResult(opts.name, { options: opts, loadAverageAtStart: loadAtStart, keys: figures, bulkCallLatency: callLatency, cpuSeconds, fairness, reference, peakRssMiB: peaks, simulator: { rateLimited: stats.rateLimited, requests: stats.requests.total } }, charts);
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
