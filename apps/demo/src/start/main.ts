/**
 * `npm start`: the four services from their built artifacts (dist/apps), as one supervised set, against the
 * Kafka, PostgreSQL, Redis and Autopilot configured in `.env` (see `.env.example`).
 *
 *   npm start [-- --env-file <file>]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { logLineFormatter } from './readable-logs';
import { loadStartEnv, SERVICES, startPlan, type ServiceLaunch } from './start-plan';
import { superviseServices } from './supervise';

const WORKSPACE = resolve(__dirname, '../../../..');

const options = new Command('start')
  .description(
    'Run connection-management, segment-extraction, field-mapping and autopilot-delivery, supervised',
  )
  .option('--env-file <file>', 'settings of the services (default .env, else .env.example)')
  .option('--json-logs', "print the services' log records as they are (JSON lines), not made readable", false)
  .parse()
  .opts<{ envFile?: string; jsonLogs: boolean }>();

const say = (text: string) => process.stdout.write(`[start] ${text}\n`);

/** Builds the services whose artifact is missing (`nx build`; cached builds cost little). */
function buildMissing(): void {
  const missing = SERVICES.filter((s) => !existsSync(resolve(WORKSPACE, `dist/apps/${s.name}/main.js`))).map(
    (s) => s.name,
  );
  if (missing.length === 0) return;
  say(`building ${missing.join(', ')} (dist/apps missing) ...`);
  const built = spawnSync(
    'npx',
    ['nx', 'run-many', '-t', 'build', `--projects=${missing.join(',')}`, '--output-style=static'],
    {
      cwd: WORKSPACE,
      stdio: 'inherit',
      env: { ...process.env, NX_DAEMON: process.env['NX_DAEMON'] ?? 'false' },
    },
  );
  if (built.status !== 0) throw new Error('the build failed (see above)');
}

/** `node main.js migrate` of a service: creates the database when missing, applies what is pending, exits. */
function migrate(service: ServiceLaunch): void {
  say(`migrating ${service.name}'s schema (node ${service.entry} migrate) ...`);
  const run = spawnSync(process.execPath, [service.entry, 'migrate'], {
    cwd: WORKSPACE,
    env: service.env,
    encoding: 'utf8',
  });
  const format = logLineFormatter({ colorize: process.stdout.isTTY === true });
  for (const line of `${run.stdout ?? ''}${run.stderr ?? ''}`.split('\n').filter(Boolean)) say(format(line));
  if (run.status !== 0) {
    const hint =
      run.status === 75
        ? ' (database unreachable or lock held: try again)'
        : run.status === 78
          ? ' (invalid configuration)'
          : '';
    throw new Error(`${service.name} migrate exited ${run.status ?? run.signal}${hint}`);
  }
}

async function main(): Promise<void> {
  process.chdir(WORKSPACE);
  const loaded = loadStartEnv(
    { envFile: options.envFile, processEnv: process.env },
    { exists: existsSync, read: (path) => readFileSync(path, 'utf8') },
  );
  if (loaded.notice) say(loaded.notice);
  say(`settings from ${loaded.file} (the environment wins over the file)`);
  const plan = startPlan(loaded.env);
  buildMissing();
  for (const service of plan.migrations) migrate(service);
  say(
    `starting ${plan.services.map((s) => `${s.name} :${s.port}`).join(', ')}; Kafka ${loaded.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092'}, ` +
      `Autopilot ${loaded.env['AUTOPILOT_BASE_URL'] ?? 'https://api2.autopilothq.com/v1'}. Ctrl-C stops them.`,
  );
  const { result } = superviseServices(plan.services, { jsonLogs: options.jsonLogs });
  await result.then(
    () => say('all services stopped'),
    (events: { command: { name: string }; exitCode: number | string }[]) => {
      const failed = events.filter((e) => e.exitCode !== 0).map((e) => `${e.command.name} (${e.exitCode})`);
      say(`stopped; ended with an error: ${failed.join(', ') || 'none'}`);
      process.exitCode = 1;
    },
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`[start] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
