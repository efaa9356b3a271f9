/**
 * Resilience scenarios on the whole pipeline (all services as processes, real Kafka, PostgreSQL, Redis). Each
 * case is one tenant with its own key; the figures are expected vs delivered contacts, contacts upserted more
 * than once in the simulator (duplicates sent), and the time to recover. Saves bench/results/resilience-*.
 *
 *   --scenario kill        SIGKILL each service mid-run, restart it at once
 *   --scenario broker      stop and restart the Kafka broker mid-run (run with KAFKA_BROKERS pointing at a
 *                          broker of its own: `npm run resilience:broker` starts one on 19092/19093)
 *   --scenario storms      bursts of 429, 503 and timeouts from the simulator during delivery
 *   --scenario revoke      the key is revoked mid-run: the run fails API_KEY_REJECTED, no further calls
 *   --scenario malformed   10,000 malformed segment-refreshed events mixed with valid ones
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { TOPICS } from '@export/contracts';
import { collectMessages, expectEventually, produceRaw, TEST_KAFKA_BROKERS, testKafka, WORKSPACE_ROOT } from '@export/testing';
import { Command } from 'commander';
import { createTenant, secondsBetween, segmentFile, startBenchStack, type BenchStack, type Run, type SimStats, type Tenant } from '../lib/harness';
import { saveResult, type Bar } from '../lib/report';

const opts = new Command('resilience')
  .requiredOption('--scenario <name>', 'kill | broker | storms | revoke | malformed')
  .option('--profiles <n>', 'profiles per run', Number, 50000)
  .parse()
  .opts<{ scenario: string; profiles: number }>();

interface CaseResult {
  case: string;
  status: string;
  reason?: string;
  expected: number;
  delivered: number;
  inSimulator: number;
  duplicatesSent: number;
  maxUpserts: number;
  eventToRunEndSeconds: number;
  [extra: string]: unknown;
}

/** Publishes the tenant's event and returns the new run's id once the control plane created it. */
async function startRun(tenant: Tenant): Promise<{ at: number; runId: string }> {
  const previous = (await tenant.latestRun())?.id;
  const at = await tenant.publish();
  const run = await expectEventually(async () => {
    const latest = await tenant.latestRun();
    return latest && latest.id !== previous ? latest : undefined;
  }, { timeoutMs: 60000, message: 'the run to be created' });
  return { at, runId: run.id };
}

/** `faultAt`: when the fault began; the result then also says how long the run took to end from there. */
async function finishCase(name: string, tenant: Tenant, at: number, expected: number, extra: Record<string, unknown> = {}, run?: Run, faultAt?: number): Promise<CaseResult> {
  const ended = run ?? (await tenant.waitForRun({ timeoutMs: 10 * 60 * 1000 }));
  const seconds = secondsBetween(at, Date.now());
  if (faultAt !== undefined) extra = { ...extra, faultToRunEndSeconds: secondsBetween(faultAt, Date.now()) };
  const contacts = await tenant.contacts();
  const result: CaseResult = {
    case: name,
    status: ended.status,
    reason: ended.reason,
    expected,
    delivered: ended.counts['delivered'] ?? 0,
    inSimulator: contacts.count,
    duplicatesSent: contacts.duplicates,
    maxUpserts: contacts.maxUpserts,
    eventToRunEndSeconds: seconds,
    ...extra,
  };
  console.log(
    `  ${name}: ${result.status}${result.reason ? ` (${result.reason})` : ''}, expected ${expected}, delivered ${result.delivered}, ` +
      `in simulator ${result.inSimulator}, upserted more than once ${result.duplicatesSent} (max ${result.maxUpserts}), ` +
      `event -> run end ${seconds} s${Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : ''}`,
  );
  return result;
}

const contactsOfKey = async (bench: BenchStack, key: string) =>
  (await bench.simulator<SimStats>('/stats')).contacts.byAccount[key] ?? 0;

/** Messages of one run seen on a topic (keyed by runId). */
function countFor(messages: { key: string | null }[], runId: string): number {
  return messages.filter((m) => m.key === runId).length;
}

async function kill(): Promise<void> {
  const bench = await startBenchStack({ simulatorRps: 0 });
  const file = await segmentFile(opts.profiles);
  const extracted = await collectMessages([TOPICS.profilesExtracted.name]);
  const mapped = await collectMessages([TOPICS.contactsMapped.name]);
  const batches = Math.ceil(opts.profiles / 500);
  const results: CaseResult[] = [];
  try {
    const baseline = await createTenant(bench, { profiles: opts.profiles, file, name: 'baseline' });
    const b = await startRun(baseline);
    results.push(await finishCase('no fault (baseline)', baseline, b.at, opts.profiles));
    const baselineSeconds = results[0].eventToRunEndSeconds;
    // `progress`: a figure of the run that only the killed service (restarted) moves on; the run has resumed
    // when it goes past what it was just after the kill.
    const deliveredSeenByControlPlane = async (tenant: Tenant) => {
      const run = await tenant.latestRun().catch(() => undefined);
      if (!run) return -1;
      return ['succeeded', 'failed', 'skipped', 'canceled'].includes(run.status) ? Number.MAX_SAFE_INTEGER : (run.counts['delivered'] ?? 0);
    };
    const cases: {
      service: string;
      when: string;
      ready: (runId: string, tenant: Tenant) => Promise<boolean>;
      progress: (runId: string, tenant: Tenant) => Promise<number>;
    }[] = [
      { service: 'segment-extraction', when: 'a third of the batches extracted', ready: async (runId) => countFor(extracted.messages, runId) >= batches / 3, progress: async (runId) => countFor(extracted.messages, runId) },
      { service: 'field-mapping', when: 'a third of the batches mapped', ready: async (runId) => countFor(mapped.messages, runId) >= batches / 3, progress: async (runId) => countFor(mapped.messages, runId) },
      { service: 'autopilot-delivery-0', when: 'a third of the contacts delivered', ready: async (_runId, t) => (await contactsOfKey(bench, t.apiKey)) >= opts.profiles / 3, progress: (_runId, t) => contactsOfKey(bench, t.apiKey) },
      { service: 'connection-management', when: 'a third of the contacts delivered', ready: async (_runId, t) => (await contactsOfKey(bench, t.apiKey)) >= opts.profiles / 3, progress: (_runId, t) => deliveredSeenByControlPlane(t) },
    ];
    for (const c of cases) {
      const tenant = await createTenant(bench, { profiles: opts.profiles, file, name: `kill-${c.service.replace(/-0$/, '')}` });
      const { at, runId } = await startRun(tenant);
      await expectEventually(() => c.ready(runId, tenant), { timeoutMs: 120000, intervalMs: 50, message: `${c.when}` });
      const killedWhenDelivered = await contactsOfKey(bench, tenant.apiKey);
      // The control plane's figure is read before the kill (its API goes down with it).
      const progressBeforeKill = c.service === 'connection-management' ? await c.progress(runId, tenant) : undefined;
      const killedAt = Date.now();
      await bench.stack.services[c.service].kill();
      // Started again at once (process start included in every figure below). Ready means consuming again:
      // the new member joins once the group has dropped the killed one (KAFKA_SESSION_TIMEOUT_MS).
      const restarted = bench.stack.restart(c.service).then(() => Date.now());
      // What the killed process had already sent settles within a moment; the restarted one is not up yet.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const progressAtKill = progressBeforeKill ?? (await c.progress(runId, tenant));
      const resumedAt = await expectEventually(
        async () => ((await c.progress(runId, tenant)) > progressAtKill ? Date.now() : undefined),
        { timeoutMs: 180000, intervalMs: 50, message: `${c.service} to resume the run` },
      );
      const readyAt = await restarted;
      const restartSeconds = secondsBetween(killedAt, readyAt);
      results.push(await finishCase(`SIGKILL ${c.service.replace(/-0$/, '')} (${c.when})`, tenant, at, opts.profiles, {
        restartSeconds,
        killToResumeSeconds: secondsBetween(killedAt, resumedAt),
        // Negative: the run moved on before the restarted process reported ready.
        readyToResumeSeconds: Math.round((resumedAt - readyAt) / 100) / 10,
        contactsInSimulatorAtKill: killedWhenDelivered,
      }, undefined, killedAt));
      const last = results[results.length - 1];
      last['extraSecondsOverBaseline'] = Math.round((last.eventToRunEndSeconds - baselineSeconds) * 10) / 10;
    }
    const peaks = await bench.peaks();
    // Recovery figures depend on the machine's load (a starved CPU slows process start and the group join).
    save('resilience-kill', results, { peakRssMiB: peaks, brokers: TEST_KAFKA_BROKERS, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 10) / 10) });
  } finally {
    await Promise.allSettled([extracted.stop(), mapped.stop()]);
    await bench.stop();
  }
}

async function broker(): Promise<void> {
  const port = TEST_KAFKA_BROKERS[0]?.split(':')[1];
  if (port === '9092' || TEST_KAFKA_BROKERS.length !== 1) {
    throw new Error('The broker scenario restarts its broker: run it against a broker of its own (npm run resilience:broker)');
  }
  const kafkaEnv = { ...process.env, KAFKA_PORT: port, KAFKA_CONTROLLER_PORT: String(Number(port) + 1), KAFKA_DATA_DIR: process.env['KAFKA_DATA_DIR'] ?? `/tmp/bench-kafka-${port}` };
  const kafkaSh = (...args: string[]) => execFileSync('bash', ['tools/kafka/kafka.sh', ...args], { cwd: WORKSPACE_ROOT, env: kafkaEnv, stdio: 'inherit' });
  kafkaSh('start');
  kafkaSh('create-topics', 'tools/kafka/topics.txt');
  // A fresh KRaft broker elects partition leaders a moment after the topics are created.
  const admin = testKafka().admin();
  await admin.connect();
  await expectEventually(async () => {
    for (const topic of Object.values(TOPICS)) await admin.fetchTopicOffsets(topic.name);
    return true;
  }, { timeoutMs: 60000, intervalMs: 500, message: 'partition leaders on the fresh broker' });
  await admin.disconnect();
  const bench = await startBenchStack({ simulatorRps: 0 });
  const file = await segmentFile(opts.profiles);
  const results: CaseResult[] = [];
  try {
    const extracted = await collectMessages([TOPICS.profilesExtracted.name]);
    const batches = Math.ceil(opts.profiles / 500);
    const staging = await createTenant(bench, { profiles: opts.profiles, file, name: 'broker-staging' });
    const sending = await createTenant(bench, { profiles: opts.profiles, file, name: 'broker-sending' });
    const cases: { tenant: Tenant; when: string; ready: (runId: string) => Promise<boolean> }[] = [
      { tenant: staging, when: 'a third of the batches extracted', ready: async (runId) => countFor(extracted.messages, runId) >= batches / 3 },
      { tenant: sending, when: 'a third of the contacts delivered', ready: async () => (await contactsOfKey(bench, sending.apiKey)) >= opts.profiles / 3 },
    ];
    for (const c of cases) {
      const { at, runId } = await startRun(c.tenant);
      await expectEventually(() => c.ready(runId), { timeoutMs: 120000, intervalMs: 50, message: c.when });
      const stoppedAt = Date.now();
      kafkaSh('stop');
      const downSeconds = secondsBetween(stoppedAt, Date.now());
      kafkaSh('start');
      const backAt = Date.now();
      results.push(await finishCase(`broker restart (${c.when})`, c.tenant, at, opts.profiles, {
        brokerStopSeconds: downSeconds,
        brokerDownSeconds: secondsBetween(stoppedAt, backAt),
      }, undefined, backAt));
    }
    await extracted.stop().catch(() => undefined);
    save('resilience-broker', results, { peakRssMiB: await bench.peaks() });
  } finally {
    await bench.stop();
    kafkaSh('stop');
  }
}

async function storms(): Promise<void> {
  const bench = await startBenchStack({ simulatorRps: 0 });
  const profiles = Math.min(opts.profiles, 20000);
  const file = await segmentFile(profiles);
  const results: CaseResult[] = [];
  const cases: { name: string; switches: Record<string, unknown> }[] = [
    { name: '429 storm: every call 429 for 5 s', switches: { force429ForMs: 5000 } },
    { name: '503 storm: next 20 calls 503, then 20% for 5 s', switches: { fail503Next: 20, fail503Probability: 0.2 } },
    { name: 'timeouts: next 8 calls applied, answered after 12 s (> 10 s client timeout)', switches: { hangNext: 8, hangMs: 12000 } },
  ];
  try {
    for (const c of cases) {
      const tenant = await createTenant(bench, { profiles, file, name: `storm-${results.length + 1}` });
      const before = await bench.simulator<SimStats>('/stats');
      const { at } = await startRun(tenant);
      await expectEventually(async () => (await contactsOfKey(bench, tenant.apiKey)) >= profiles / 5, { timeoutMs: 120000, intervalMs: 50, message: 'delivery under way' });
      const stormAt = Date.now();
      await bench.simulator('/faults', { method: 'PATCH', body: { ...c.switches, faultRoutes: ['POST /contacts'] } });
      if (c.switches['fail503Probability']) {
        await expectEventually(() => Date.now() - stormAt >= 5000, { timeoutMs: 10000, intervalMs: 100, message: 'the storm window' });
        await bench.simulator('/faults', { method: 'PATCH', body: { fail503Probability: 0 } });
      }
      const run = await tenant.waitForRun({ timeoutMs: 10 * 60 * 1000 });
      const stats = await bench.simulator<SimStats>('/stats');
      await bench.simulator('/faults', { method: 'PUT', body: {} });
      results.push(await finishCase(c.name, tenant, at, profiles, {
        answered429: stats.rateLimited - before.rateLimited,
        answered503: stats.injected503 - before.injected503,
        hung: stats.hung - before.hung,
      }, run, stormAt));
    }
    save('resilience-storms', results, {});
  } finally {
    await bench.stop();
  }
}

async function revoke(): Promise<void> {
  const bench = await startBenchStack({ simulatorRps: 5 });
  const profiles = 5000;
  const file = await segmentFile(profiles);
  try {
    const tenant = await createTenant(bench, { profiles, file, name: 'revoke' });
    const { at } = await startRun(tenant);
    await expectEventually(async () => (await contactsOfKey(bench, tenant.apiKey)) >= 1000, { timeoutMs: 120000, intervalMs: 50, message: 'delivery under way' });
    await bench.simulator(`/keys/${encodeURIComponent(tenant.apiKey)}`, { method: 'DELETE' });
    const revokedAt = Date.now();
    // A revoked key's calls answer 401 before the rate limiter counts them: count them with `unauthorized`.
    const calls = (stats: SimStats) => (stats.keys[tenant.apiKey]?.requests ?? 0) + stats.unauthorized;
    const atRevoke = calls(await bench.simulator<SimStats>('/stats'));
    const run = await tenant.waitForRun({ timeoutMs: 120000 });
    const runEnd = Date.now();
    const atEnd = calls(await bench.simulator<SimStats>('/stats'));
    // A few pacing intervals later: still no call with the dead key.
    await expectEventually(() => Date.now() - runEnd >= 3000, { timeoutMs: 10000, intervalMs: 100, message: 'three seconds after the run ended' });
    const later = calls(await bench.simulator<SimStats>('/stats'));
    const result = await finishCase('key revoked mid-run', tenant, at, profiles, {
      callsAfterRevocation: atEnd - atRevoke,
      callsAfterRunEnd: later - atEnd,
      revokeToRunEndSeconds: secondsBetween(revokedAt, runEnd),
    }, run);
    save('resilience-revoke', [result], {});
  } finally {
    await bench.stop();
  }
}

async function malformed(): Promise<void> {
  const bench = await startBenchStack({ simulatorRps: 0 });
  const profiles = 2000;
  const file = await segmentFile(profiles);
  const dead = await collectMessages([TOPICS.deadLetter.name]);
  try {
    const tenants: Tenant[] = [];
    for (let i = 0; i < 5; i++) tenants.push(await createTenant(bench, { profiles, file, name: `flood-${i + 1}` }));
    const previous = await Promise.all(tenants.map((t) => t.latestRun()));
    const flood = randomUUID().slice(0, 8);
    const valid = (t: Tenant) => ({
      key: `${t.tenantId}:${t.segmentId}`,
      value: JSON.stringify({
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        tenantId: t.tenantId,
        segment: { id: t.segmentId, name: 'Bench', memberCount: profiles },
        snapshot: { format: 'csv', location: pathToFileURL(t.snapshotFile).href },
      }),
    });
    const bad = (i: number) => {
      const key = `flood-${flood}:${i}`;
      switch (i % 4) {
        case 0: return { key, value: '{"eventId": "not json' };
        case 1: return { key, value: JSON.stringify({ eventId: randomUUID(), tenantId: 'x' }) };
        case 2: return { key, value: JSON.stringify({ eventId: randomUUID(), occurredAt: new Date().toISOString(), tenantId: 'x', segment: { id: 's', name: 'n', memberCount: 1 }, snapshot: { format: 'parquet', location: 'file:///nope' } }) };
        default: return { key, value: 'garbage '.repeat(20) };
      }
    };
    const messages: { key: string; value: string }[] = [];
    for (let i = 0; i < 10000; i++) {
      messages.push(bad(i));
      if (i % 2000 === 1000) messages.push(valid(tenants[Math.floor(i / 2000)]));
    }
    const at = Date.now();
    for (let i = 0; i < messages.length; i += 1000) await produceRaw(TOPICS.segmentRefreshed.name, messages.slice(i, i + 1000));
    const produceSeconds = secondsBetween(at, Date.now());
    const runs = await Promise.all(
      tenants.map(async (t, i) => {
        await expectEventually(async () => (await t.latestRun())?.id !== previous[i]?.id, { timeoutMs: 300000, message: 'the valid event to make a run' });
        return t.waitForRun({ timeoutMs: 300000 });
      }),
    );
    const allRunsSeconds = secondsBetween(at, Date.now());
    const deadLettered = await expectEventually(
      () => {
        const n = dead.messages.filter((m) => m.key?.startsWith(`flood-${flood}:`)).length;
        return n >= 10000 ? n : undefined;
      },
      { timeoutMs: 300000, intervalMs: 500, message: 'every malformed event dead-lettered' },
    );
    const deadLetterSeconds = secondsBetween(at, Date.now());
    const results: CaseResult[] = [];
    for (const [i, t] of tenants.entries()) {
      results.push(await finishCase(`valid event ${i + 1} of 5 among 10,000 malformed`, t, at, profiles, {}, runs[i]));
    }
    console.log(`  dead-lettered ${deadLettered} of 10,000 malformed in ${deadLetterSeconds} s; 5 valid runs ended ${allRunsSeconds} s after the flood began (produced in ${produceSeconds} s)`);
    save('resilience-malformed', results, { malformed: 10000, deadLettered, deadLetterSeconds, allRunsSeconds, produceSeconds, peakRssMiB: await bench.peaks() });
  } finally {
    await dead.stop().catch(() => undefined);
    await bench.stop();
  }
}

function save(name: string, results: CaseResult[], extra: Record<string, unknown>): void {
  const bars = (value: (r: CaseResult) => number, target?: (r: CaseResult) => number): Bar[] =>
    results.map((r) => ({ label: r.case.replace(/ \(.*\)$/, '').slice(0, 38), value: value(r), target: target?.(r) }));
  const recovered = results.filter((r) => typeof r['killToResumeSeconds'] === 'number');
  const recovery = recovered.map((r) => ({
    label: r.case.replace(/ \(.*\)$/, '').slice(0, 38),
    value: r['killToResumeSeconds'] as number,
    target: 15,
  }));
  saveResult(name, { options: opts, cases: results, ...extra }, [
    { title: 'delivered contacts (target: expected)', unit: '', bars: bars((r) => r.delivered, (r) => r.expected) },
    { title: 'contacts upserted more than once (duplicates sent)', unit: '', bars: bars((r) => r.duplicatesSent) },
    { title: 'event to run end', unit: 's', bars: bars((r) => r.eventToRunEndSeconds) },
    ...(recovery.length ? [{ title: 'kill to run resumed, restart at once (target: 15 s)', unit: 's', bars: recovery }] : []),
  ]);
}

const scenarios: Record<string, () => Promise<void>> = { kill, broker, storms, revoke, malformed };
const scenario = scenarios[opts.scenario];
if (!scenario) throw new Error(`Unknown scenario ${opts.scenario}; one of ${Object.keys(scenarios).join(', ')}`);
scenario().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
