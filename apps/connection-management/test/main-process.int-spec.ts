import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { TOPICS } from '@export/contracts';
import { signServiceToken } from '@export/service-auth';
import { ADMIN_DATABASE_URL, expectEventually, produceRaw, signToken } from '@export/testing';
import { Client } from 'pg';
import { startAutopilotStub } from './support/autopilot-stub';

const MAIN = join(__dirname, '../../../dist/apps/connection-management/main.js');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The built artifact, as deployed: it creates its database, migrates it from the SQL files shipped beside
 * main.js, serves the API, and never writes an API key to its output, even at debug level.
 */
describe('connection-management artifact (dist/main.js)', () => {
  const database = `cp_main_${randomBytes(4).toString('hex')}`;
  const secret = `jwt-secret-${randomUUID()}`;
  const internalSecret = `internal-secret-${randomUUID()}`;
  const apiKey = `valid-${randomUUID()}`;
  const rejectedKey = `revoked-${randomUUID()}`;
  let output = '';
  let child: ChildProcess;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  let url: string;
  let internalUrl: string;

  beforeAll(async () => {
    stub = await startAutopilotStub();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const internalPort = await freePort();
    internalUrl = `http://127.0.0.1:${internalPort}`;
    const dbUrl = new URL(ADMIN_DATABASE_URL);
    dbUrl.pathname = `/${database}`;
    child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        PORT: String(port),
        INTERNAL_PORT: String(internalPort),
        INTERNAL_AUTH_SECRET: internalSecret,
        DATABASE_URL: dbUrl.toString(),
        KAFKA_GROUP_ID: `cp-main-${randomUUID()}`,
        AUTOPILOT_BASE_URL: stub.baseUrl,
        AUTH_JWT_SECRET: secret,
        CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'debug',
        NODE_ENV: 'production',
        SNAPSHOT_ROOT: '/data/snapshots',
        // The shared test broker is PLAINTEXT on loopback; production refuses it unless told.
        KAFKA_ALLOW_PLAINTEXT: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    await expectEventually(async () => (await fetch(`${url}/readyz`)).status === 200, {
      timeoutMs: 45000,
      message: 'artifact ready',
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await stub?.close();
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  });

  it('created and migrated its database, and keeps API keys out of responses and logs', async () => {
    const admin = await signToken({ sub: 'alice', tid: 'contoso', role: 'admin' }, secret, '5m');
    const service = await signServiceToken(internalSecret, 'autopilot-delivery');
    const call = async (method: string, path: string, token: string, body?: unknown, base = url) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };

    const rejected = await call('POST', '/v1/connections', admin, {
      displayName: 'x',
      apiKey: rejectedKey,
      privacyConsent: true,
    });
    expect(rejected.status).toBe(422);
    const created = await call('POST', '/v1/connections', admin, {
      displayName: 'AP',
      apiKey,
      privacyConsent: true,
    });
    expect(created.status).toBe(201);
    const { id } = JSON.parse(created.text);
    const responses = [
      rejected,
      created,
      await call('GET', '/v1/connections', admin),
      await call('GET', `/v1/connections/${id}`, admin),
      await call('PATCH', `/v1/connections/${id}`, admin, { displayName: 'AP2', apiKey: rejectedKey }),
    ];
    for (const res of responses) {
      expect(res.text).not.toContain(apiKey);
      expect(res.text).not.toContain(rejectedKey);
    }
    // The key leaves only through the internal listener, for a running run of the connection, audited.
    await produceRaw(TOPICS.segmentRefreshed.name, [
      {
        key: 'contoso:seg-main',
        value: JSON.stringify({
          eventId: randomUUID(),
          occurredAt: new Date().toISOString(),
          tenantId: 'contoso',
          segment: { id: 'seg-main', name: 'Main', memberCount: 1 },
          snapshot: { format: 'csv', location: 'file:///data/snapshots/contoso/seg-main.csv' },
        }),
      },
    ]);
    await expectEventually(async () => (await call('GET', '/v1/segments', admin)).text.includes('seg-main'), {
      message: 'segment from its event',
    });
    const exp = await call('POST', '/v1/exports', admin, {
      name: 'main',
      connectionId: id,
      segmentIds: ['seg-main'],
      mapping: { email: 'EMail' },
    });
    const { runId } = JSON.parse(
      (await call('POST', `/v1/exports/${JSON.parse(exp.text).id}/runs`, admin)).text,
    );
    await expectEventually(
      async () => JSON.parse((await call('GET', `/v1/runs/${runId}`, admin)).text).status === 'running',
      { message: 'run running' },
    );
    const credentialsPath = `/internal/v1/connections/${id}/credentials?tenantId=contoso&runId=${runId}`;
    expect((await call('GET', credentialsPath, service)).status).toBe(404);
    const credentials = await call('GET', credentialsPath, service, undefined, internalUrl);
    expect(JSON.parse(credentials.text).apiKey).toBe(apiKey);
    await expectEventually(() => output.includes('credentials.decrypted'), { message: 'audit line' });
    const auditLine = JSON.parse(
      output.split('\n').find((line) => line.includes('credentials.decrypted')) ?? '{}',
    );
    expect(auditLine).toMatchObject({
      msg: 'credentials.decrypted',
      audit: true,
      caller: 'autopilot-delivery',
      tenantId: 'contoso',
      connectionId: id,
      runId,
    });
    expect(JSON.stringify(auditLine)).not.toContain(apiKey);

    const admin2 = new Client({
      connectionString: ADMIN_DATABASE_URL.replace(/\/postgres$/, `/${database}`),
    });
    await admin2.connect();
    try {
      const tables = await admin2.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'control_plane' ORDER BY 1`,
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining([
          'connections',
          'exports',
          'runs',
          'rejections',
          'segments',
          'tenant_quotas',
          'outbox',
          'pgmigrations',
        ]),
      );
      const stored = await admin2.query(
        'SELECT api_key_encrypted, api_key_last4 FROM control_plane.connections',
      );
      expect(stored.rows[0].api_key_encrypted).not.toContain(apiKey);
      expect(stored.rows[0].api_key_last4).toBe(apiKey.slice(-4));
    } finally {
      await admin2.end();
    }

    // The requests above were logged (debug level): the log exists, and holds no key.
    await expectEventually(() => output.includes('/internal/v1/connections'), { message: 'request logs' });
    expect(output).toContain('database created');
    expect(output).not.toContain(apiKey);
    expect(output).not.toContain(rejectedKey);
    expect(output).not.toContain(secret);
    expect(output).not.toContain(internalSecret);
  });

  it('refuses to start in production with development secrets, naming them', async () => {
    const res = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const p = spawn(process.execPath, [MAIN], {
        env: { ...process.env, NODE_ENV: 'production', KAFKA_ALLOW_PLAINTEXT: 'true', PORT: '1', SNAPSHOT_ROOT: '/data/snapshots' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      p.stdout?.on('data', (c) => (text += c));
      p.stderr?.on('data', (c) => (text += c));
      p.on('exit', (code) => resolve({ code, text }));
    });
    expect(res.code).toBe(1);
    expect(res.text).toContain('CREDENTIALS_ENCRYPTION_KEY');
    expect(res.text).toContain('AUTH_JWT_SECRET');
    expect(res.text).toContain('INTERNAL_AUTH_SECRET');
  });

  it('refuses to start in production without SNAPSHOT_ROOT, naming it', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', KAFKA_ALLOW_PLAINTEXT: 'true', PORT: '1' };
    delete env['SNAPSHOT_ROOT'];
    const res = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const p = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout?.on('data', (c) => (text += c));
      p.stderr?.on('data', (c) => (text += c));
      p.on('exit', (code) => resolve({ code, text }));
    });
    expect(res.code).toBe(1);
    expect(res.text).toContain('SNAPSHOT_ROOT: required in production');
  });
});
