/**
 * Runs a command with Kafka, PostgreSQL and Redis available, started once for the whole command (npm test,
 * npm run demo): from testcontainers when a Docker engine answers and no variable already names the resource
 * (KAFKA_BROKERS, TEST_ADMIN_DATABASE_URL / DATABASE_URL, REDIS_URL); otherwise the machine's own, as
 * tools/scripts/ensure-services.sh starts them (the broker of tools/kafka). The child gets the variables and
 * INFRASTRUCTURE_READY=1; containers are stopped when it ends. Exits with the child's code.
 *
 *   node -r @swc-node/register tools/scripts/with-infrastructure.ts <command> [args...]
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { dockerAnswers, planInfrastructure, RESOURCES } from '../../libs/testing/src/infrastructure';

const say = (text: string) => process.stderr.write(`[infrastructure] ${text}\n`);

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    say('usage: with-infrastructure.ts <command> [args...]');
    return 64;
  }
  const docker = await dockerAnswers(process.env);
  const plan = planInfrastructure(process.env, docker);
  say(
    `${RESOURCES.map((r) => `${r}: ${plan[r]}`).join(', ')} ` +
      `(${docker ? 'a Docker engine answers' : 'no Docker engine answers: the local broker, PostgreSQL and Redis'})`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, INFRASTRUCTURE_READY: '1' };
  let stop = async () => undefined as void;
  if (RESOURCES.some((r) => plan[r] === 'container')) {
    // Loaded only here: without Docker the tests never load testcontainers.
    const { startContainers } = await import('../../libs/testing/src/containers');
    say('starting containers (the first run pulls the images) ...');
    const started = await startContainers(plan);
    Object.assign(env, started.env);
    stop = started.stop;
    say(
      `ready: ${Object.entries(started.env)
        .map(([k, v]) => `${k}=${v.replace(/\/\/[^@/]*@/, '//***@')}`)
        .join(' ')}`,
    );
  } else {
    const ensured = spawnSync('bash', [resolve(__dirname, 'ensure-services.sh')], { stdio: 'inherit', env });
    if (ensured.status !== 0) {
      say('the local services could not be started (see above)');
      return 1;
    }
  }
  try {
    const child = spawn(command, args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    const [code, signal] = (await new Promise((done) => child.on('exit', (...result) => done(result)))) as [
      number | null,
      string | null,
    ];
    return code ?? (signal === 'SIGINT' ? 130 : 1);
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
