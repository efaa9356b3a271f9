import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_DATABASE_URL, freePort, WORKSPACE_ROOT } from '@export/testing';
import { Client } from 'pg';

/**
 * `node main.js migrate` of the built services with a schema (dist/apps, built by this project's int-test
 * dependencies), as the Kubernetes init containers and the compose migrate services run it: production
 * settings with nothing but DATABASE_URL, exit codes that tell "try again" from "look", and the service
 * started with MIGRATE_ON_START=false refusing a schema that is not migrated.
 */
const APPS = {
  'connection-management': 'control_plane',
  'autopilot-delivery': 'delivery',
} as const;
type App = keyof typeof APPS;

interface Exit {
  code: number | null;
  output: string;
}

/** Runs a built service with `args` and only the given environment (plus PATH); resolves when it exits. */
function runApp(app: App, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Exit> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(WORKSPACE_ROOT, 'dist', 'apps', app, 'main.js'), ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code: child.exitCode ?? code, output: `${stdout}${stderr}` });
      },
    );
  });
}

const migrationCount = (app: App) =>
  readdirSync(join(WORKSPACE_ROOT, 'dist', 'apps', app, 'migrations')).filter((f) => f.endsWith('.sql')).length;

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('the migrate command of the services with a schema (built artifacts)', () => {
  const databases: string[] = [];
  /** A database name nobody created yet: the command creates it, as on a fresh server. */
  const freshDatabase = () => {
    const name = `migrate_cmd_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    databases.push(name);
    return databaseUrl(name);
  };

  afterAll(async () => {
    for (const name of databases)
      await query(ADMIN_DATABASE_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
  });

  it.each(Object.keys(APPS) as App[])(
    '%s: migrates a fresh database in production with only DATABASE_URL, exits 0, and again 0 with nothing to do',
    async (app) => {
      const url = freshDatabase();
      const env = { NODE_ENV: 'production', DATABASE_URL: url };
      const first = await runApp(app, ['migrate'], env);
      expect({ code: first.code, output: first.output.slice(-2000) }).toMatchObject({ code: 0 });
      expect(first.output).toContain('"msg":"migrate: schema up to date"');
      const rows = await query<{ n: string }>(url, `SELECT count(*) AS n FROM ${APPS[app]}.pgmigrations`);
      expect(Number(rows[0]?.n)).toBe(migrationCount(app));

      const second = await runApp(app, ['migrate'], env);
      expect(second.code).toBe(0);
      expect(second.output).toContain('"msg":"database schema up to date"');
      const again = await query<{ n: string }>(url, `SELECT count(*) AS n FROM ${APPS[app]}.pgmigrations`);
      expect(Number(again[0]?.n)).toBe(migrationCount(app));
    },
  );

  it('four migrate commands of both services at the same instant on one fresh database: all exit 0, each migration applied once', async () => {
    const url = freshDatabase();
    const env = { NODE_ENV: 'production', DATABASE_URL: url };
    const exits = await Promise.all(
      (['connection-management', 'autopilot-delivery', 'connection-management', 'autopilot-delivery'] as App[]).map((app) =>
        runApp(app, ['migrate'], env),
      ),
    );
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
    for (const app of Object.keys(APPS) as App[]) {
      const rows = await query<{ name: string; n: string }>(
        url,
        `SELECT name, count(*) AS n FROM ${APPS[app]}.pgmigrations GROUP BY name`,
      );
      expect(rows).toHaveLength(migrationCount(app));
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    }
  });

  it.each(Object.keys(APPS) as App[])(
    '%s with MIGRATE_ON_START=false refuses to start on a schema that is not migrated, naming what is pending',
    async (app) => {
      const url = freshDatabase();
      // Create the database only: the schema stays unmigrated.
      await query(ADMIN_DATABASE_URL, `CREATE DATABASE "${new URL(url).pathname.slice(1)}"`);
      const ports = { PORT: String(await freePort()), INTERNAL_PORT: String(await freePort()) };
      const exit = await runApp(app, [], { NODE_ENV: 'development', DATABASE_URL: url, MIGRATE_ON_START: 'false', ...ports });
      expect(exit.code).toBe(1);
      expect(exit.output).toContain(`Schema ${APPS[app]} has ${migrationCount(app)} pending migration(s)`);
      expect(exit.output).toContain('MIGRATE_ON_START=false');
      expect(exit.output).toContain('node main.js migrate');
      const schemas = await query<{ n: string }>(url, `SELECT count(*) AS n FROM pg_namespace WHERE nspname = '${APPS[app]}'`);
      expect(Number(schemas[0]?.n)).toBe(0);
    },
  );

  it('exits 75 (try again) when the database is unreachable, 78 on an invalid setting, 64 on an unknown command', async () => {
    const unreachable = await runApp('autopilot-delivery', ['migrate'], {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
    });
    expect(unreachable.code).toBe(75);
    expect(unreachable.output).toMatch(/migrate: failed \(try again\).*ECONNREFUSED/);

    const invalid = await runApp('connection-management', ['migrate'], {
      NODE_ENV: 'production',
      DATABASE_URL: 'mysql://somewhere/db',
      MIGRATION_LOCK_TIMEOUT_MS: 'soon',
    });
    expect(invalid.code).toBe(78);
    expect(invalid.output).toContain('DATABASE_URL: must be a postgres:// URL');
    expect(invalid.output).toContain('MIGRATION_LOCK_TIMEOUT_MS');

    const unknown = await runApp('connection-management', ['migrat'], { NODE_ENV: 'production' });
    expect(unknown.code).toBe(64);
    expect(unknown.output).toContain('usage: node main.js [migrate]');
  });
});
