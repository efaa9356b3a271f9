import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, WORKSPACE_ROOT } from '@export/testing';

/**
 * `NODE_ENV` fails closed: a service started without it is in production and refuses to start on its
 * development secrets, naming each one (and never printing a value). Development defaults need
 * `NODE_ENV=development`, set explicitly, as every launch path of the repository does.
 */
describe('services started without NODE_ENV (built artifacts)', () => {
  const cases: [app: string, secrets: string[]][] = [
    ['connection-management', ['CREDENTIALS_ENCRYPTION_KEY', 'AUTH_JWT_SECRET', 'INTERNAL_AUTH_SECRET']],
    ['autopilot-delivery', ['INTERNAL_AUTH_SECRET']],
  ];

  it.each(cases)('%s refuses its development secrets and names them', async (app, secrets) => {
    const main = join(WORKSPACE_ROOT, 'dist', 'apps', app, 'main.js');
    expect(existsSync(main)).toBe(true);
    // What a container or a unit file gives a service that forgot NODE_ENV: no secrets, no NODE_ENV. The
    // broker and the database are unreachable ones, so a service that starts anyway touches nothing shared.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '',
      PORT: String(await freePort()),
      KAFKA_BROKERS: '127.0.0.1:1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing',
      // Set, so that the secrets are what the service refuses (production requires it too).
      SNAPSHOT_ROOT: '/data/snapshots',
      // Kafka security is checked on its own (kafka-sasl.int-spec); here the secrets are the subject.
      KAFKA_ALLOW_PLAINTEXT: 'true',
    };
    const child = spawn(process.execPath, [main], {
      cwd: WORKSPACE_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
    // A service that starts instead is stopped after a while: the test then fails on its exit code.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    expect({ code, output: output.slice(0, 2000) }).toMatchObject({ code: 1 });
    for (const name of secrets)
      expect(output).toContain(
        `${name}: a real secret is required in production (the development default is set`,
      );
    expect(output).not.toContain('dev-only-');
  });
});
