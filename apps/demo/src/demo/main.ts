/**
 * `npm run demo`, the main job: `npm start`'s path (the four services, supervised, from dist/apps) plus the
 * Autopilot simulator, and an export driven as a user would, through export-cli: a generated segment's
 * segment-refreshed event (events publish), a connection, an export, the run it starts, watched to its summary;
 * then a dry run previews the next run and the next run sends nothing (nothing changed).
 *
 *   npm run demo -- --profiles 20000 --rps 5 [--keep] [--base-port 3000]
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  expectEventually,
  serviceConsumerGroups,
  startGroupAtEnd,
  tenantSnapshotDir,
  TEST_KAFKA_BROKERS,
  TEST_SNAPSHOT_ROOT,
} from '@export/testing';
import { Command, InvalidArgumentError } from 'commander';
import { SERVICES, serviceVariablePrefix } from '../start/start-plan';
import { exportCli } from './export-cli';
import { startProcess, waitUntilUp, type Running } from './processes';

const WORKSPACE = resolve(__dirname, '../../../..');

const count = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
};

const options = new Command('demo')
  .description(
    'Run the services and the Autopilot simulator, and export a generated segment through export-cli',
  )
  .option('--profiles <n>', 'profiles in the generated segment', count, 10000)
  .option('--rps <n>', "the simulator's rate limit per key and delivery's pace (0 = unthrottled)", count, 5)
  .option(
    '--base-port <port>',
    'API on it, the other services on the next three, the simulator on +89, the internal listener on +100',
    count,
    3000,
  )
  .option('--keep', 'leave everything running after the export (Ctrl-C stops it)', false)
  .parse()
  .opts<{ profiles: number; rps: number; basePort: number; keep: boolean }>();

const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (text: string) => say(`\n==> ${text}`);

async function writeSegment(file: string, profiles: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('CustomerId,EMail,FirstName,LastName\n');
  for (let i = 1; i <= profiles; i++) {
    // Every 50th row repeats the one before (other case), every 97th has a broken e-mail: the summary shows both.
    const email =
      i % 97 === 0 ? `broken-${i}` : i % 50 === 0 ? `Person${i - 1}@Example.com` : `person${i}@example.com`;
    if (!out.write(`C-${i},${email},First${i},Last${i}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<number> {
  const base = options.basePort;
  const ports = { api: base, simulator: base + 89, internal: base + 100 };
  const apiKey = `demo-${randomUUID()}`;
  const tenantId = 'demo-tenant';
  // One segment per demo: the demo's database is kept, and an older export of the same segment would run too.
  const segmentId = `seg-demo-${Date.now().toString(36)}`;
  const snapshotRoot = process.env['SNAPSHOT_ROOT'] || TEST_SNAPSHOT_ROOT;
  const workDir = join(WORKSPACE, 'tmp', 'demo');
  mkdirSync(workDir, { recursive: true });

  // npm start's settings (.env.example: development, the simulator), pointed at this demo's simulator and ports.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    DATABASE_URL: process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/segment_export_demo',
    AUTOPILOT_BASE_URL: `http://127.0.0.1:${ports.simulator}/v1`,
    AUTOPILOT_RATE_LIMIT_RPS: String(options.rps),
    SNAPSHOT_ROOT: snapshotRoot,
    INTERNAL_PORT: String(ports.internal),
    CONTROL_PLANE_URL: `http://127.0.0.1:${ports.internal}`,
    EXPORT_API_URL: `http://127.0.0.1:${ports.api}`,
  };
  SERVICES.forEach((service, i) => {
    env[`${serviceVariablePrefix(service.name)}_PORT`] = String(base + i);
    env[`${serviceVariablePrefix(service.name)}_KAFKA_GROUP_ID`] = `demo.${service.name}`;
  });

  step(`Generating a segment of ${options.profiles.toLocaleString('en')} profiles`);
  const snapshot = join(tenantSnapshotDir(tenantId, snapshotRoot), `${segmentId}.csv`);
  await writeSegment(snapshot, options.profiles);
  say(`  ${snapshot}`);

  // The demo's groups are stable, but start at the end of each topic: a shared development broker holds other
  // stacks' messages, which this demo must not replay.
  const groupOf = (service: string) => env[`${serviceVariablePrefix(service)}_KAFKA_GROUP_ID`] ?? service;
  await Promise.all(serviceConsumerGroups(groupOf).map(([group, topics]) => startGroupAtEnd(group, topics)));

  const running: Running[] = [];
  let stopping: Promise<void> | undefined;
  // Once, however often asked: Ctrl-C reaches this process both from the terminal and through the wrapper.
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const one of running.reverse()) await one.stop();
    })());
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    step(
      `Starting the Autopilot simulator on :${ports.simulator} (${options.rps || 'no'} requests/s per key)`,
    );
    const simulator = startProcess(process.execPath, ['dist/apps/autopilot-simulator/main.js'], {
      cwd: WORKSPACE,
      env: {
        ...env,
        PORT: String(ports.simulator),
        SIM_API_KEYS: apiKey,
        SIM_RATE_LIMIT_RPS: String(options.rps),
        LOG_LEVEL: 'warn',
      },
      prefix: '[autopilot-simulator] ',
    });
    running.push(simulator);
    await waitUntilUp(`http://127.0.0.1:${ports.simulator}/__sim/health`, {
      alive: () => simulator.child.exitCode === null,
    });

    step('npm start: the four services, supervised (LOG_LEVEL=warn here; npm start shows info)');
    const start = startProcess(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/demo/src/start/main.ts', '--env-file', '.env.example'],
      {
        cwd: WORKSPACE,
        env: {
          ...env,
          LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
          SWC_NODE_PROJECT: 'tsconfig.base.json',
        },
      },
    );
    running.push(start);
    const alive = () => start.child.exitCode === null;
    for (const [i] of SERVICES.entries()) await waitUntilUp(`http://127.0.0.1:${base + i}/readyz`, { alive });
    say(`  ready: API http://127.0.0.1:${ports.api} (OpenAPI at /docs)`);

    const cli = exportCli(WORKSPACE, env);
    step('export-cli token --tenant demo-tenant --role admin');
    const token = await cli.run(['token', '--tenant', tenantId, '--role', 'admin', '--sub', 'demo-admin']);
    const as = { ...env, EXPORT_API_TOKEN: token };
    const user = exportCli(WORKSPACE, as);

    const eventFile = join(workDir, `${segmentId}.event.json`);
    const event = {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      tenantId,
      segment: { id: segmentId, name: 'Demo segment', memberCount: options.profiles },
      snapshot: { format: 'csv', location: pathToFileURL(snapshot).href },
    };
    writeFileSync(eventFile, `${JSON.stringify(event, null, 2)}\n`);
    step(`export-cli events validate / publish ${eventFile} (the platform announces the segment)`);
    say(`  ${await user.run(['events', 'validate', eventFile])}`);
    say(`  ${await user.run(['events', 'publish', eventFile])}`);
    await expectEventually(
      async () => {
        const res = await fetch(`${env['EXPORT_API_URL']}/v1/segments`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = (await res.json()) as { id: string }[] | { items: { id: string }[] };
        return (Array.isArray(body) ? body : body.items).some((s) => s.id === segmentId);
      },
      { timeoutMs: 60_000, intervalMs: 300, message: 'the segment to be registered' },
    );

    step('export-cli connections create (the key is checked against the simulator)');
    const connection = JSON.parse(
      await user.run([
        '--json',
        'connections',
        'create',
        '--name',
        'Autopilot (simulator)',
        '--api-key',
        apiKey,
        '--accept-privacy-notice',
        '--add-me',
      ]),
    ) as { id: string; apiKeyLast4: string };
    say(`  connection ${connection.id} (key ending ${connection.apiKeyLast4})`);

    step('export-cli exports create');
    const exp = JSON.parse(
      await user.run([
        '--json',
        'exports',
        'create',
        '--name',
        'Demo export',
        '--connection',
        connection.id,
        '--segments',
        segmentId,
        '--email',
        'EMail',
        '--first-name',
        'FirstName',
        '--last-name',
        'LastName',
      ]),
    ) as { id: string };
    say(`  export ${exp.id}`);

    step('export-cli events publish --fresh (the segment is refreshed: the export runs)');
    const startedAt = Date.now();
    say(`  ${await user.run(['events', 'publish', eventFile, '--fresh'])}`);
    const runId = await expectEventually(
      async () => {
        const runs = JSON.parse(await user.run(['--json', 'runs', 'list', '--export', exp.id])) as
          | { id: string }[]
          | { items: { id: string }[] };
        return (Array.isArray(runs) ? runs : runs.items)[0]?.id;
      },
      { timeoutMs: 60_000, intervalMs: 300, message: 'the run' },
    );

    step(`export-cli runs watch ${runId}`);
    const watched = await user.show(['runs', 'watch', runId, '--interval', '500']);
    const seconds = (Date.now() - startedAt) / 1000;
    const stats = (await (await fetch(`http://127.0.0.1:${ports.simulator}/__sim/stats`)).json()) as {
      requests: { total: number };
      rateLimited: number;
      keys: Record<string, { maxAdmittedInWindow: number }>;
    };
    step('Summary');
    say(
      `  run ${runId}: ${watched === 0 ? 'succeeded' : 'did not succeed'}, ${seconds.toFixed(1)} s from the event`,
    );
    say(
      `  Autopilot simulator: ${stats.requests.total} requests, ${stats.rateLimited} answered 429, busiest second ` +
        `${Math.max(0, ...Object.values(stats.keys).map((k) => k.maxAdmittedInWindow))} (limit ${options.rps || 'none'})`,
    );
    if (watched === 0) {
      // Incremental sync: preview the next run (a dry run changes nothing), then run it: nothing changed, so
      // nothing is sent.
      const requests = async () =>
        (
          (await (await fetch(`http://127.0.0.1:${ports.simulator}/__sim/stats`)).json()) as {
            requests: { total: number };
          }
        ).requests.total;
      step(`export-cli exports run ${exp.id} --dry-run --watch (preview of the next run)`);
      await user.show(['exports', 'run', exp.id, '--dry-run', '--watch', '--interval', '500']);
      const before = await requests();
      step(`export-cli exports run ${exp.id} --watch (nothing changed: nothing is sent)`);
      const again = await user.show(['exports', 'run', exp.id, '--watch', '--interval', '500']);
      say(
        `  second run: ${again === 0 ? 'succeeded' : 'did not succeed'}, ${(await requests()) - before} Autopilot requests`,
      );
    }
    if (options.keep) {
      say(
        `\nLeft running (API http://127.0.0.1:${ports.api}, token: export-cli token --tenant ${tenantId} --role admin); Ctrl-C stops it.`,
      );
      await new Promise(() => undefined);
    }
    return watched === 0 ? 0 : 1;
  } finally {
    if (!options.keep) {
      step('Stopping (as Ctrl-C would)');
      await stopAll();
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
