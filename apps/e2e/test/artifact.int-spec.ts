import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TOPICS } from '@export/contracts';
import { expectEventually, freePort, startGroupAtEnd, TEST_KAFKA_BROKERS, WORKSPACE_ROOT } from '@export/testing';

const run = promisify(execFile);

/**
 * One service's deployable on its own: the field-mapping bundle (dist/apps/field-mapping, built by this
 * project's int-test dependencies) is copied to a folder outside the repository, gets only the production
 * dependencies of its generated package.json/package-lock.json (what the deps stage of its Dockerfile does)
 * and starts from there, so nothing can come from the repository's node_modules.
 */
describe('field-mapping artifact, installed and started outside the repository', () => {
  const app = 'field-mapping';
  const dist = join(WORKSPACE_ROOT, 'dist', 'apps', app);
  let dir: string;
  let child: ChildProcess | undefined;
  let output = '';
  let port: number;

  beforeAll(async () => {
    expect(existsSync(join(dist, 'main.js'))).toBe(true);
    dir = mkdtempSync(join(tmpdir(), `artifact-${app}-`));
    cpSync(dist, dir, { recursive: true });
    // The npm cache is warm on developer machines and CI; --prefer-offline keeps the install quick.
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? dir },
      timeout: 120_000,
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('carries only its own production dependencies', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const dependencies = Object.keys(manifest.dependencies);
    expect(dependencies).toEqual(expect.arrayContaining(['@nestjs/core', 'kafkajs', 'zod']));
    // Other services' libraries (delivery: JWT, retries, HTTP; extraction: CSV; control plane and delivery:
    // PostgreSQL, migrations) and every build tool stay out.
    for (const name of ['@nestjs/jwt', 'csv-parse', 'pg', 'node-pg-migrate', 'cockatiel', 'axios'])
      expect(dependencies).not.toContain(name);
    // ioredis is listed only as @nestjs/microservices' optional peer (Nx promotes an optional peer that the root
    // package.json depends on); the bundle never loads it.
    expect(readFileSync(join(dir, 'main.js'), 'utf8')).not.toContain('require("ioredis")');
    expect(manifest.devDependencies ?? {}).toEqual({});
    const installed = readdirSync(join(dir, 'node_modules'));
    for (const name of ['nx', 'jest', 'webpack', 'typescript', '@swc', 'pg', 'node-pg-migrate', 'csv-parse'])
      expect(installed).not.toContain(name);
    // Resolution from the artifact's folder finds the artifact's own copies.
    for (const name of ['kafkajs', '@nestjs/core'])
      expect(require.resolve(name, { paths: [dir] }).startsWith(join(dir, 'node_modules'))).toBe(true);
  });

  it('starts from its folder and answers /healthz and /readyz', async () => {
    port = await freePort();
    const groupId = `artifact-${app}-${randomUUID().slice(0, 8)}`;
    // A group of its own, positioned at the end of the topic: the shared broker's history is not re-mapped.
    await startGroupAtEnd(groupId, [TOPICS.profilesExtracted.name]);
    child = spawn(process.execPath, ['main.js'], {
      cwd: dir,
      // A clean environment, as in the container: no NODE_PATH, nothing of the test runner's.
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'production',
        // The shared test broker is PLAINTEXT on loopback; production refuses it unless told.
        KAFKA_ALLOW_PLAINTEXT: 'true',
        PORT: String(port),
        KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
        KAFKA_GROUP_ID: groupId,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr?.on('data', (data: Buffer) => (output += data.toString()));

    await expectEventually(
      async () => {
        expect(child?.exitCode).toBeNull();
        const health = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(health.status).toBe(200);
        expect(await health.json()).toEqual({ status: 'ok' });
        return true;
      },
      { timeoutMs: 60_000, message: `${app} answering` },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- ${app} output ---\n${output.slice(-4000)}`);
    });
    await expectEventually(
      async () => {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        const body = (await ready.json()) as { status: string; checks: Record<string, string> };
        expect({ status: ready.status, body }).toEqual({
          status: 200,
          body: { status: 'ready', checks: { 'kafka-consumer:profiles-extracted': 'up' } },
        });
        return true;
      },
      { timeoutMs: 60_000, message: `${app} ready` },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- ${app} output ---\n${output.slice(-4000)}`);
    });
    expect(output).toContain(`"port":${port}`);
  });
});
