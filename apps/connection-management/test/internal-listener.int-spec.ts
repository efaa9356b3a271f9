import { randomUUID } from 'node:crypto';
import { TOPICS } from '@export/contracts';
import { expectEventually, produceRaw } from '@export/testing';
import { startAutopilotStub } from './support/autopilot-stub';
import { segmentRefreshed, startControlPlane, type RunningControlPlane } from './support/control-plane';

/**
 * The internal listener (issue 10, item 2): service calls use their own credential and only the internal
 * listener; the credentials call names an active run of the tenant and connection it asks about.
 */
describe('internal listener and service credential (real PostgreSQL and Kafka)', () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  const tenant = `t-int-${randomUUID().slice(0, 8)}`;
  const otherTenant = `t-int-other-${randomUUID().slice(0, 8)}`;
  const apiKey = `valid-${randomUUID()}`;
  let admin: string;
  let service: string;
  let connectionA: string;
  let connectionB: string;
  let exportId: string;

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({
      AUTOPILOT_BASE_URL: stub.baseUrl,
      METRICS_ON_INTERNAL: 'true',
      DOCS_ON_INTERNAL: 'true',
    });
    admin = cp.token({ sub: 'alice', tid: tenant, role: 'admin' });
    service = await cp.serviceToken();
    await produceRaw(TOPICS.segmentRefreshed.name, [
      { key: `${tenant}:seg-int`, value: JSON.stringify(segmentRefreshed(tenant, 'seg-int')) },
    ]);
    await expectEventually(
      async () => (await cp.call('GET', '/v1/segments', { token: admin })).body?.length === 1,
      { timeoutMs: 30000, message: 'segment from its event' },
    );
    const connection = (displayName: string) =>
      cp.call('POST', '/v1/connections', {
        token: admin,
        body: { displayName, apiKey, privacyConsent: true },
      });
    connectionA = (await connection('A')).body.id;
    connectionB = (await connection('B')).body.id;
    exportId = (
      await cp.call('POST', '/v1/exports', {
        token: admin,
        body: {
          name: 'int',
          connectionId: connectionA,
          segmentIds: ['seg-int'],
          mapping: { email: 'EMail' },
        },
      })
    ).body.id;
  });

  afterAll(async () => {
    await cp?.close();
    await stub?.close();
  });

  /** Starts a run of the export and waits until it is running (its spec written). */
  async function runningRun(): Promise<string> {
    const { body } = await cp.call('POST', `/v1/exports/${exportId}/runs`, { token: admin });
    await expectEventually(
      async () =>
        (await cp.call('GET', `/v1/runs/${body.runId}`, { token: admin })).body?.status === 'running',
      { message: 'run running' },
    );
    return body.runId;
  }
  const credentialsPath = (connectionId: string, runId: string, tenantId = tenant) =>
    `/internal/v1/connections/${connectionId}/credentials?tenantId=${tenantId}&runId=${runId}`;
  const cancel = (runId: string) => cp.call('POST', `/v1/runs/${runId}/cancel`, { token: admin });

  it('the public port answers 404 for /internal/*, however it is spelt, even with a valid service token', async () => {
    const runId = await runningRun();
    try {
      const path = credentialsPath(connectionA, runId);
      for (const variant of [
        path,
        path.replace('/internal', '/INTERNAL'),
        path.replace('/internal', '//internal'),
        path.replace('/internal', '/%69nternal'),
        `/internal/v1/runs/${runId}?tenantId=${tenant}`,
        '/internal',
      ]) {
        const res = await cp.call('GET', variant, { token: service });
        expect({ variant, status: res.status }).toEqual({ variant, status: 404 });
        expect(res.text).not.toContain(apiKey);
      }
      // The same call on the internal listener is served.
      const served = await cp.callInternal('GET', path, { token: service });
      expect({ status: served.status, body: served.body }).toMatchObject({ status: 200, body: { apiKey } });
    } finally {
      await cancel(runId);
    }
  });

  it('the internal listener serves /internal/*, the probes and what was moved there, nothing else', async () => {
    expect((await cp.callInternal('GET', '/v1/connections', { token: admin })).status).toBe(404);
    expect((await cp.callInternal('GET', '/')).status).toBe(404);
    expect((await cp.callInternal('GET', '/healthz')).status).toBe(200);
    // METRICS_ON_INTERNAL and DOCS_ON_INTERNAL: moved, so the public port no longer serves them.
    expect((await cp.callInternal('GET', '/metrics')).text).toContain('process_cpu_user_seconds_total');
    expect((await cp.call('GET', '/metrics')).status).toBe(404);
    const docs = (await cp.callInternal('GET', '/docs-json')).body;
    expect(docs.paths).toHaveProperty(['/v1/connections']);
    expect(docs.paths).toHaveProperty(['/internal/v1/runs/{runId}']);
    expect((await cp.call('GET', '/docs-json')).status).toBe(404);
    expect((await cp.call('GET', '/docs')).status).toBe(404);
    // The public API is still there.
    expect((await cp.call('GET', '/v1/connections', { token: admin })).status).toBe(200);
  });

  it('accepts only service tokens signed with INTERNAL_AUTH_SECRET, and only on the internal listener', async () => {
    const runId = await runningRun();
    try {
      const path = credentialsPath(connectionA, runId);
      const status = async (token?: string) => (await cp.callInternal('GET', path, { token })).status;
      expect(await status()).toBe(401);
      // A user token, even an admin's of the very tenant.
      expect(await status(admin)).toBe(401);
      // Yesterday's service token: user-token secret, role service.
      expect(await status(cp.token({ sub: 'autopilot-delivery', tid: '*', role: 'service' }))).toBe(401);
      // Today's claims, signed with the user-token secret.
      expect(await status(await cp.serviceToken(cp.config.AUTH_JWT_SECRET))).toBe(401);
      expect(await status(service)).toBe(200);
      // A service token does not open the public API.
      expect((await cp.call('GET', '/v1/connections', { token: service })).status).toBe(401);
    } finally {
      await cancel(runId);
    }
  });

  it('gives a key only for an active run of that tenant and that connection', async () => {
    const runId = await runningRun();
    const call = (path: string) => cp.callInternal('GET', path, { token: service });

    const ok = await call(credentialsPath(connectionA, runId));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ connectionId: connectionA, tenantId: tenant, apiKey, status: 'active', keyVersion: 1 });
    expect(ok.headers.get('cache-control')).toBe('no-store');

    // The run must be named.
    const unnamed = await call(`/internal/v1/connections/${connectionA}/credentials?tenantId=${tenant}`);
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.field).toBe('runId');
    // Another connection of the same tenant: the run does not deliver through it.
    const otherConnection = await call(credentialsPath(connectionB, runId));
    expect(otherConnection.status).toBe(409);
    expect(otherConnection.body.message).toMatch(/^RUN_CONNECTION_MISMATCH/);
    // Another tenant naming this run: no such run there.
    const stranger = await call(credentialsPath(connectionA, runId, otherTenant));
    expect(stranger.status).toBe(404);
    expect(stranger.body.message).toMatch(/^RUN_NOT_FOUND/);
    // A run nobody started.
    expect((await call(credentialsPath(connectionA, randomUUID()))).status).toBe(404);
    for (const res of [unnamed, otherConnection, stranger]) expect(res.text).not.toContain(apiKey);

    // Once the run has ended, its key is no longer handed out.
    expect((await cancel(runId)).status).toBe(200);
    const ended = await call(credentialsPath(connectionA, runId));
    expect(ended.status).toBe(409);
    expect(ended.body.message).toMatch(/^RUN_NOT_ACTIVE/);
    expect(ended.text).not.toContain(apiKey);
  });

  it("answers the run's authoritative spec by id, scoped to the tenant named", async () => {
    const runId = await runningRun();
    try {
      const res = await cp.callInternal('GET', `/internal/v1/runs/${runId}?tenantId=${tenant}`, {
        token: service,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        runId,
        tenantId: tenant,
        exportId,
        status: 'running',
        connectionId: connectionA,
        limitPolicy: 'skip',
        profileLimit: 100000,
        quotaPerMonth: null,
        spec: { runId, tenantId: tenant, exportId, connectionId: connectionA },
      });
      const elsewhere = await cp.callInternal('GET', `/internal/v1/runs/${runId}?tenantId=${otherTenant}`, {
        token: service,
      });
      expect(elsewhere.status).toBe(404);
      expect((await cp.callInternal('GET', `/internal/v1/runs/${runId}`, { token: service })).status).toBe(
        400,
      );
      expect(
        (await cp.callInternal('GET', `/internal/v1/runs/${runId}?tenantId=${tenant}`, { token: admin }))
          .status,
      ).toBe(401);
    } finally {
      await cancel(runId);
    }
    const canceled = await cp.callInternal('GET', `/internal/v1/runs/${runId}?tenantId=${tenant}`, {
      token: service,
    });
    expect(canceled.body.status).toBe('canceled');
  });

  it('hands out the new key once an admin replaced it', async () => {
    const newKey = `valid-rotated-${randomUUID()}`;
    expect(
      (await cp.call('PATCH', `/v1/connections/${connectionA}`, { token: admin, body: { apiKey: newKey } }))
        .status,
    ).toBe(200);
    const runId = await runningRun();
    try {
      const res = await cp.callInternal('GET', credentialsPath(connectionA, runId), { token: service });
      expect(res.body.apiKey).toBe(newKey);
    } finally {
      await cancel(runId);
    }
  });

  it('gives the key version: saving the key again (even the same one) moves it on, so a rejection of the old one no longer holds', async () => {
    const versionNow = async () => {
      const runId = await runningRun();
      try {
        const res = await cp.callInternal('GET', credentialsPath(connectionA, runId), { token: service });
        return res.body as { apiKey: string; keyVersion: number };
      } finally {
        await cancel(runId);
      }
    };
    const before = await versionNow();
    expect(before.keyVersion).toBeGreaterThanOrEqual(1);
    // Renaming is no key change.
    await cp.call('PATCH', `/v1/connections/${connectionA}`, { token: admin, body: { displayName: 'renamed' } });
    expect((await versionNow()).keyVersion).toBe(before.keyVersion);
    // The same key saved again (an admin re-enabled it in Autopilot) and checked: a new version.
    await cp.call('PATCH', `/v1/connections/${connectionA}`, { token: admin, body: { apiKey: before.apiKey } });
    expect(await versionNow()).toEqual({ ...before, keyVersion: before.keyVersion + 1, status: expect.any(String) });
  });
});
