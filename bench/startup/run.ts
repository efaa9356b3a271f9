/**
 * Concurrent start: connection-management, segment-extraction, field-mapping, the Autopilot simulator and
 * three autopilot-delivery instances (built dist/apps, separate processes) launched at the same instant on
 * one fresh database (not created beforehand: the two services with a schema race on CREATE DATABASE and on
 * their migrations), with fresh consumer groups, on the real Kafka, PostgreSQL and Redis. A round succeeds
 * when every process answers its readiness path; a process that exits or is not ready in time is a failure.
 * Records time to ready per service and round, how often each schema was migrated (must be once), and saves
 * bench/results/<name>.json and .md (+ .svg).
 *
 *   --rounds 20              rounds, each on a new database
 *   --deliveries 3           autopilot-delivery instances
 *   --mode on-start          every instance migrates its schema at start (MIGRATE_ON_START=true, the default)
 *   --mode migrate-command   as the Kubernetes init containers do: each instance of a service with a schema
 *                            first runs `node main.js migrate`, then starts with MIGRATE_ON_START=false
 *   --schema-dist <dir>      where connection-management and autopilot-delivery come from (default dist/apps;
 *                            e.g. a build of the code before the migration lock, to compare)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  ADMIN_DATABASE_URL,
  DEV_INTERNAL_AUTH_SECRET,
  DEV_JWT_SECRET,
  freePort,
  serviceConsumerGroups,
  startGroupAtEnd,
  startServiceProcess,
  TEST_KAFKA_BROKERS,
  TEST_SNAPSHOT_ROOT,
  WORKSPACE_ROOT,
  type ServiceProcess,
  TEST_REDIS_URL,
} from '@export/testing';
import { Command } from 'commander';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { saveResult, type Bar } from '../lib/report';

const opts = new Command('concurrent-start')
  .option('--rounds <n>', 'rounds, each on a fresh database', Number, 20)
  .option('--deliveries <n>', 'autopilot-delivery instances', Number, 3)
  .option('--mode <mode>', 'on-start | migrate-command', 'on-start')
  .option('--schema-dist <dir>', 'folder of the connection-management and autopilot-delivery builds', 'dist/apps')
  .option('--ready-timeout-ms <ms>', 'a process not ready by then is a failure', Number, 120_000)
  .option('--name <name>', 'results name', 'concurrent-start')
  .parse()
  .opts<{ rounds: number; deliveries: number; mode: string; schemaDist: string; readyTimeoutMs: number; name: string }>();

if (!['on-start', 'migrate-command'].includes(opts.mode)) throw new Error(`--mode: on-start or migrate-command, not ${opts.mode}`);
const schemaDist = relative(WORKSPACE_ROOT, resolve(WORKSPACE_ROOT, opts.schemaDist));
const SCHEMAS: Record<string, { schema: string; dir: string }> = {
  'connection-management': { schema: 'control_plane', dir: join(WORKSPACE_ROOT, schemaDist, 'connection-management', 'migrations') },
  'autopilot-delivery': { schema: 'delivery', dir: join(WORKSPACE_ROOT, schemaDist, 'autopilot-delivery', 'migrations') },
};
const entryOf = (app: string) => (app in SCHEMAS ? join(schemaDist, app, 'main.js') : join('dist', 'apps', app, 'main.js'));
for (const app of ['connection-management', 'segment-extraction', 'field-mapping', 'autopilot-simulator', 'autopilot-delivery'])
  if (!existsSync(join(WORKSPACE_ROOT, entryOf(app)))) throw new Error(`${entryOf(app)} is missing: build it first (npx nx run-many -t build)`);

interface ProcessResult {
  name: string;
  app: string;
  ready: boolean;
  /** From the round's launch instant to the first 200 of its readiness path (migrate command included). */
  readySeconds?: number;
  /** migrate-command mode: the migrate command's exit code and duration. */
  migrateExit?: number | null;
  migrateSeconds?: number;
  /** migrate-command mode: this process's migrate command applied migrations (rather than finding none pending). */
  migrateApplied?: boolean;
  error?: string;
}

interface RoundResult {
  round: number;
  database: string;
  allReady: boolean;
  /** Launch to the last process ready. */
  allReadySeconds?: number;
  processes: ProcessResult[];
  /** Rows of each schema's migrations table after the round: one per migration file means migrated once. */
  migrationsApplied: Record<string, number>;
  /** Processes whose log says they applied migrations ("database migrated"), per schema. */
  migratedBy: Record<string, string[]>;
  loadAverage1m: number;
}

/** A log line "database migrated" with a non-empty list: the process applied migrations itself. */
const APPLIED = /"applied":\["[^"]/;
const seconds = (ms: number) => Math.round(ms / 10) / 100;

/** Runs `node <entry> migrate`; resolves to its exit code and output. */
function runMigrateCommand(entry: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(WORKSPACE_ROOT, entry), 'migrate'], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, NODE_ENV: 'development', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolveRun({ code, output }));
  });
}

async function migrationsApplied(databaseUrl: string): Promise<Record<string, number>> {
  const client = new Client({ connectionString: databaseUrl });
  const counts: Record<string, number> = {};
  try {
    await client.connect();
    for (const { schema } of Object.values(SCHEMAS)) {
      const { rows } = await client
        .query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.pgmigrations`)
        .catch(() => ({ rows: [{ n: '-1' }] }));
      counts[schema] = Number(rows[0]?.n);
    }
  } catch {
    // the database was never created: every count stays missing
  } finally {
    await client.end().catch(() => undefined);
  }
  return counts;
}

async function dropDatabase(name: string): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function runRound(round: number, logRoot: string): Promise<RoundResult> {
  const database = `concurrent_start_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  const id = randomBytes(4).toString('hex');
  const group = (app: string) => `${app}-start-${id}`;
  // Fresh groups at the end of every topic: this round sees none of the shared broker's history.
  await Promise.all(serviceConsumerGroups(group).map(([groupId, topics]) => startGroupAtEnd(groupId, topics)));
  const ports = {
    api: await freePort(),
    internal: await freePort(),
    extraction: await freePort(),
    mapping: await freePort(),
    simulator: await freePort(),
    deliveries: await Promise.all(Array.from({ length: opts.deliveries }, () => freePort())),
  };
  const simulatorUrl = `http://127.0.0.1:${ports.simulator}`;
  const common = {
    KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: DEV_JWT_SECRET,
    INTERNAL_AUTH_SECRET: DEV_INTERNAL_AUTH_SECRET,
    MIGRATE_ON_START: opts.mode === 'on-start' ? 'true' : 'false',
  };
  const plan: { name: string; app: string; port: number; env: Record<string, string>; readyPath?: string }[] = [
    {
      name: 'connection-management',
      app: 'connection-management',
      port: ports.api,
      env: {
        DATABASE_URL: databaseUrl,
        AUTOPILOT_BASE_URL: `${simulatorUrl}/v1`,
        SNAPSHOT_ROOT: TEST_SNAPSHOT_ROOT,
        INTERNAL_PORT: String(ports.internal),
      },
    },
    { name: 'segment-extraction', app: 'segment-extraction', port: ports.extraction, env: { SNAPSHOT_ROOT: TEST_SNAPSHOT_ROOT } },
    { name: 'field-mapping', app: 'field-mapping', port: ports.mapping, env: {} },
    {
      name: 'autopilot-simulator',
      app: 'autopilot-simulator',
      port: ports.simulator,
      env: { SIM_API_KEYS: `sim-key-${id}`, SIM_RATE_LIMIT_RPS: '0' },
      readyPath: '/__sim/health',
    },
    ...ports.deliveries.map((port, i) => ({
      name: `autopilot-delivery-${i}`,
      app: 'autopilot-delivery',
      port,
      env: {
        DATABASE_URL: databaseUrl,
        REDIS_URL: TEST_REDIS_URL,
        CONTROL_PLANE_URL: `http://127.0.0.1:${ports.internal}`,
        AUTOPILOT_BASE_URL: `${simulatorUrl}/v1`,
        AUTOPILOT_RATE_LIMIT_RPS: '0',
      },
    })),
  ];
  const logDir = join(logRoot, `round-${String(round).padStart(2, '0')}`);
  const started: ServiceProcess[] = [];
  const t0 = Date.now();
  // Every launch below happens before the first await of its promise: the processes start together.
  const results = await Promise.all(
    plan.map(async ({ name, app, port, env, readyPath }): Promise<ProcessResult> => {
      const fullEnv = { ...common, KAFKA_GROUP_ID: group(app), ...env };
      const result: ProcessResult = { name, app, ready: false };
      try {
        if (opts.mode === 'migrate-command' && app in SCHEMAS) {
          const migrate = await runMigrateCommand(entryOf(app), fullEnv);
          result.migrateExit = migrate.code;
          result.migrateSeconds = seconds(Date.now() - t0);
          result.migrateApplied = APPLIED.test(migrate.output);
          if (migrate.code !== 0) throw new Error(`migrate exited ${migrate.code}:\n${migrate.output.slice(-2000)}`);
        }
        const service = await startServiceProcess({
          name,
          entry: entryOf(app),
          port,
          env: fullEnv,
          logDir,
          readyPath,
          readyTimeoutMs: opts.readyTimeoutMs,
        });
        started.push(service);
        result.ready = true;
        result.readySeconds = seconds(Date.now() - t0);
      } catch (error) {
        result.error = (error instanceof Error ? error.message : String(error)).slice(0, 3000);
      }
      return result;
    }),
  );
  const allReadySeconds = seconds(Date.now() - t0);
  const migratedBy: Record<string, string[]> = { control_plane: [], delivery: [] };
  for (const service of started) {
    const schema = SCHEMAS[service.name.replace(/-\d+$/, '')]?.schema;
    // One that got the lock after another instance had migrated logs an empty list.
    if (schema && APPLIED.test(service.output())) migratedBy[schema]?.push(service.name);
  }
  for (const r of results) if (r.migrateApplied) migratedBy[SCHEMAS[r.app]?.schema ?? '']?.push(`${r.name} (migrate)`);
  const applied = await migrationsApplied(databaseUrl);
  await Promise.allSettled(started.map((s) => s.stop()));
  await dropDatabase(database).catch(() => undefined);
  const allReady = results.every((r) => r.ready);
  return {
    round,
    database,
    allReady,
    allReadySeconds: allReady ? allReadySeconds : undefined,
    processes: results,
    migrationsApplied: applied,
    migratedBy,
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
  };
}

function stats(values: number[]): { min: number; median: number; max: number } | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { min: sorted[0] as number, median: Math.round(median * 100) / 100, max: sorted[sorted.length - 1] as number };
}

/** Every process this script started and that still runs (its direct children, from /proc). */
function childPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after its ")".
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

// Interrupted: stop the services of the round in hand too, not only this script.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const pid of childPids()) process.kill(pid, 'SIGKILL');
    process.exit(130);
  });

async function main(): Promise<void> {
  const logRoot = join(WORKSPACE_ROOT, 'tmp', 'logs', `${opts.name}-${Date.now()}`);
  const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100);
  console.log(
    `${opts.name}: ${opts.rounds} rounds, ${4 + opts.deliveries} processes at once (mode ${opts.mode}, schema services from ${schemaDist}); ` +
      `load average ${loadBefore.join(' ')}; logs in ${logRoot}`,
  );
  const rounds: RoundResult[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const result = await runRound(round, logRoot);
    rounds.push(result);
    const failed = result.processes.filter((p) => !p.ready);
    console.log(
      `round ${round}: ${result.allReady ? `all ${result.processes.length} ready in ${result.allReadySeconds} s` : `${failed.length} FAILED`}` +
        ` (migrated by ${JSON.stringify(result.migratedBy)}, migrations ${JSON.stringify(result.migrationsApplied)}, load ${result.loadAverage1m})` +
        failed.map((p) => `\n  ${p.name}: ${p.error?.split('\n').slice(0, 6).join(' | ')}`).join(''),
    );
  }
  const names = rounds[0]?.processes.map((p) => p.name) ?? [];
  const perService = Object.fromEntries(
    names.map((name) => {
      const ready = rounds.flatMap((r) => r.processes.filter((p) => p.name === name && p.ready).map((p) => p.readySeconds as number));
      return [name, { ready: ready.length, failures: rounds.length - ready.length, readySeconds: stats(ready) }];
    }),
  );
  const allReadyRounds = rounds.filter((r) => r.allReady).length;
  const failures = rounds.flatMap((r) => r.processes.filter((p) => !p.ready).map((p) => ({ round: r.round, name: p.name, error: p.error })));
  const migratedOnce = rounds.filter((r) => r.allReady).every((r) => Object.values(r.migratedBy).every((by) => by.length <= 1));
  const summary = {
    rounds: rounds.length,
    allReadyRounds,
    processesPerRound: names.length,
    mode: opts.mode,
    schemaDist,
    migratedOncePerSchema: migratedOnce,
    allReadySeconds: stats(rounds.filter((r) => r.allReady).map((r) => r.allReadySeconds as number)),
    perService,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  console.log(JSON.stringify({ ...summary, failures: failures.map((f) => `${f.round} ${f.name}: ${f.error?.split('\n')[0]}`) }, null, 2));
  const medianBars: Bar[] = names.map((name) => ({ label: name, value: perService[name]?.readySeconds?.median ?? 0 }));
  const maxBars: Bar[] = names.map((name) => ({ label: name, value: perService[name]?.readySeconds?.max ?? 0 }));
  saveResult(opts.name, { ...summary, failures, roundsDetail: rounds }, [
    { title: `rounds with every process ready (of ${rounds.length})`, unit: 'rounds', bars: [{ label: 'all ready', value: allReadyRounds, target: rounds.length }] },
    { title: 'time to ready from the common launch, median', unit: 's', bars: medianBars },
    { title: 'time to ready from the common launch, max', unit: 's', bars: maxBars },
  ]);
  process.exitCode = allReadyRounds === rounds.length ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
