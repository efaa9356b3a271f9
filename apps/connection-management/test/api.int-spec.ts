import { randomUUID } from 'node:crypto';
import { TOPICS } from '@export/contracts';
import { expectEventually, produceRaw } from '@export/testing';
import { SignJWT } from 'jose';
import { startAutopilotStub } from './support/autopilot-stub';
import { segmentRefreshed, startControlPlane, type RunningControlPlane } from './support/control-plane';

describe('connection-management REST API (real PostgreSQL and Kafka)', () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  const tenant = `t-api-${randomUUID().slice(0, 8)}`;
  const otherTenant = `t-api-other-${randomUUID().slice(0, 8)}`;
  const apiKey = `valid-${randomUUID()}`;
  let admin: string;
  let contributor: string;
  let operator: string;
  let stranger: string;
  let service: string;
  const mapping = {
    email: 'EMail',
    firstName: 'FirstName',
    custom: [{ attribute: 'Tier', field: 'Loyalty Tier', type: 'string' }],
  };

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({ AUTOPILOT_BASE_URL: stub.baseUrl });
    admin = cp.token({ sub: 'alice', tid: tenant, role: 'admin' });
    contributor = cp.token({ sub: 'carol', tid: tenant, role: 'contributor' });
    operator = cp.token({ sub: 'olga', tid: 'ops', role: 'operator' });
    stranger = cp.token({ sub: 'mallory', tid: otherTenant, role: 'admin' });
    service = cp.token({ sub: 'autopilot-delivery', tid: '*', role: 'service' });
    // Segments appear when their events arrive.
    await produceRaw(
      TOPICS.segmentRefreshed.name,
      ['seg-vip', 'seg-new'].map((id) => ({
        key: `${tenant}:${id}`,
        value: JSON.stringify(segmentRefreshed(tenant, id)),
      })),
    );
    await expectEventually(
      async () => (await cp.call('GET', '/v1/segments', { token: admin })).body?.length === 2,
      {
        timeoutMs: 30000,
        message: 'segments from events',
      },
    );
  });

  afterAll(async () => {
    await cp?.close();
    await stub?.close();
  });

  const createConnection = (body: Record<string, unknown>, token = admin) =>
    cp.call('POST', '/v1/connections', {
      token,
      body: { displayName: 'Autopilot EU', apiKey, privacyConsent: true, ...body },
    });

  describe('authentication', () => {
    it('answers 401 without a token, with a bad signature and with a malformed header', async () => {
      expect((await cp.call('GET', '/v1/connections')).status).toBe(401);
      const forged = cp.token(
        { tid: tenant, role: 'admin' },
        'some-other-secret-that-is-long-enough-for-hs256',
      );
      const res = await cp.call('GET', '/v1/connections', { token: forged });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Invalid or expired token',
      });
      expect(
        (await cp.call('GET', '/v1/connections', { headers: { authorization: 'Basic abc' } })).status,
      ).toBe(401);
    });

    it('refuses service tokens on public routes (403) and tokens without a role (401)', async () => {
      expect((await cp.call('GET', '/v1/connections', { token: service })).status).toBe(403);
      expect(
        (await cp.call('GET', '/v1/connections', { token: cp.token({ tid: tenant, role: 'root' }) })).status,
      ).toBe(401);
    });

    it('refuses HS256 tokens without exp, expired beyond the clock skew, or with alg none (401)', async () => {
      const secret = new TextEncoder().encode(cp.config.AUTH_JWT_SECRET);
      const claims = { sub: 'alice', tid: tenant, role: 'admin' };
      const now = Math.floor(Date.now() / 1000);
      const sign = (jwt: SignJWT) => jwt.setProtectedHeader({ alg: 'HS256' }).sign(secret);
      const refused = async (token: string, message: string) => {
        const res = await cp.call('GET', '/v1/connections', { token });
        expect(res.status).toBe(401);
        expect(res.body.message).toBe(message);
        expect(res.text).not.toContain(token);
      };
      await refused(await sign(new SignJWT(claims).setIssuedAt()), 'Token has no expiry (exp)');
      await refused(await sign(new SignJWT(claims).setExpirationTime(now - 31)), 'Token expired');
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
        JSON.stringify({ ...claims, exp: now + 60 }),
      ).toString('base64url')}.`;
      await refused(unsigned, 'Token signing algorithm is not accepted');
      // Within the default 30 s skew, a just-expired token still passes.
      const justExpired = await sign(new SignJWT(claims).setExpirationTime(now - 5));
      expect((await cp.call('GET', '/v1/connections', { token: justExpired })).status).toBe(200);
    });

    it('echoes the correlation id, or makes one', async () => {
      const given = await cp.call('GET', '/v1/segments', {
        token: admin,
        headers: { 'x-correlation-id': 'corr-123' },
      });
      expect(given.headers.get('x-correlation-id')).toBe('corr-123');
      const made = await cp.call('GET', '/v1/segments', { token: admin });
      expect(made.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('serves health, readiness, metrics and the OpenAPI document without a token', async () => {
      expect((await cp.call('GET', '/healthz')).status).toBe(200);
      const ready = await cp.call('GET', '/readyz');
      expect(ready.body.checks).toEqual({
        database: 'up',
        'kafka-segment-refreshed': 'up',
        'kafka-run-events': 'up',
      });
      expect((await cp.call('GET', '/metrics')).text).toContain('control_plane_runs_queued_total');
      const docs = await cp.call('GET', '/docs-json');
      expect(docs.status).toBe(200);
      expect(Object.keys(docs.body.paths)).toEqual(
        expect.arrayContaining(['/v1/connections', '/v1/exports/{id}/runs', '/v1/runs/{runId}']),
      );
      // The public port's document leaves out the internal listener's routes.
      expect(Object.keys(docs.body.paths).filter((path) => path.startsWith('/internal'))).toEqual([]);
    });
  });

  describe('connections', () => {
    it('refuses a connection without privacy consent, naming privacyConsent', async () => {
      for (const consent of [undefined, false, 'yes']) {
        const res = await createConnection({ privacyConsent: consent });
        expect(res.status).toBe(400);
        expect(res.body.field).toBe('privacyConsent');
        expect(res.body.message).toContain('privacyConsent');
      }
    });

    it("answers 422 with Autopilot's message when Autopilot rejects the key, and saves nothing", async () => {
      const res = await createConnection({ apiKey: 'revoked-key-12345' });
      expect(res.status).toBe(422);
      expect(res.body.message).toContain('Provided autopilotapikey not valid.');
      expect(res.text).not.toContain('revoked-key-12345');
      expect((await cp.call('GET', '/v1/connections', { token: admin })).body).toEqual([]);
    });

    it('answers 502 when Autopilot is down or unreachable', async () => {
      expect((await createConnection({ apiKey: 'down-key-12345' })).status).toBe(502);
      const dropped = await createConnection({ apiKey: 'drop-key-12345' });
      expect(dropped.status).toBe(502);
      expect(dropped.text).not.toContain('drop-key-12345');
    });

    it('lets only admins create connections', async () => {
      expect((await createConnection({}, contributor)).status).toBe(403);
      expect((await createConnection({}, operator)).status).toBe(403);
    });

    it('creates, lists, reads and updates a connection without ever returning the key', async () => {
      const created = await createConnection({ addMeAsExportUser: true });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        displayName: 'Autopilot EU',
        type: 'autopilot',
        allowContributors: false,
        apiKeyLast4: apiKey.slice(-4),
        status: 'active',
        exportUsers: ['alice'],
        createdAt: expect.any(String),
      });
      expect(created.text).not.toContain(apiKey);
      const id = created.body.id;
      const list = await cp.call('GET', '/v1/connections', { token: contributor });
      expect(list.body.map((c: { id: string }) => c.id)).toContain(id);
      expect(list.text).not.toContain(apiKey);
      expect((await cp.call('GET', `/v1/connections/${id}`, { token: admin })).body.id).toBe(id);

      const renamed = await cp.call('PATCH', `/v1/connections/${id}`, {
        token: admin,
        body: { displayName: 'Renamed', allowContributors: true, exportUsers: ['alice', 'bob'] },
      });
      expect(renamed.body).toMatchObject({
        displayName: 'Renamed',
        allowContributors: true,
        exportUsers: ['alice', 'bob'],
      });
      expect(
        (
          await cp.call('PATCH', `/v1/connections/${id}`, {
            token: admin,
            body: { apiKey: 'revoked-again-123' },
          })
        ).status,
      ).toBe(422);
      const newKey = `valid-rotated-${randomUUID()}`;
      const rotated = await cp.call('PATCH', `/v1/connections/${id}`, {
        token: admin,
        body: { apiKey: newKey },
      });
      expect(rotated.body.apiKeyLast4).toBe(newKey.slice(-4));
      expect(rotated.text).not.toContain(newKey);
      expect(
        (await cp.call('PATCH', `/v1/connections/${id}`, { token: contributor, body: { displayName: 'x' } }))
          .status,
      ).toBe(403);
    });

    it("answers 404 for another tenant's connection and for ids that are not ids", async () => {
      const created = await createConnection({});
      expect((await cp.call('GET', `/v1/connections/${created.body.id}`, { token: stranger })).status).toBe(
        404,
      );
      expect(
        (
          await cp.call('PATCH', `/v1/connections/${created.body.id}`, {
            token: stranger,
            body: { displayName: 'x' },
          })
        ).status,
      ).toBe(404);
      expect(
        (await cp.call('DELETE', `/v1/connections/${created.body.id}`, { token: stranger })).status,
      ).toBe(404);
      expect((await cp.call('GET', '/v1/connections/not-a-uuid', { token: admin })).status).toBe(404);
    });
  });

  // The internal credentials route: test/internal-listener.int-spec.ts (internal listener, service credential).

  describe('exports', () => {
    let connectionId: string;
    let sharedConnectionId: string;

    beforeAll(async () => {
      connectionId = (await createConnection({ displayName: 'admins only' })).body.id;
      sharedConnectionId = (await createConnection({ displayName: 'shared', allowContributors: true })).body
        .id;
    });

    const exportBody = (overrides: Record<string, unknown> = {}) => ({
      name: 'VIP to Autopilot',
      connectionId,
      segmentIds: ['seg-vip', 'seg-new'],
      mapping,
      ...overrides,
    });

    it.each([
      [{ mapping: { firstName: 'FirstName' } }, 'mapping.email'],
      [
        { mapping: { email: 'EMail', custom: [{ attribute: 'Tier', field: 'Tier', type: 'money' }] } },
        'mapping.custom[0].type',
      ],
      [
        { mapping: { email: 'EMail', custom: [{ attribute: 'Tier', field: 'Bad--Name', type: 'string' }] } },
        'mapping.custom[0].field',
      ],
      [{ profileLimit: 0 }, 'profileLimit'],
      [{ profileLimit: 100001 }, 'profileLimit'],
      [{ limitPolicy: 'drop' }, 'limitPolicy'],
      [{ segmentIds: [] }, 'segmentIds'],
      [{ segmentIds: ['seg-vip', 'seg-unknown'] }, 'segmentIds[1]'],
      [{ listNames: { 'seg-other': 'x' } }, 'listNames.seg-other'],
      [{ connectionId: randomUUID() }, 'connectionId'],
      [{ name: '' }, 'name'],
    ])('answers 400 naming the field at fault (%j -> %s)', async (overrides, field) => {
      const res = await cp.call('POST', '/v1/exports', { token: admin, body: exportBody(overrides) });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', field });
    });

    it('creates an export with defaults, without running it', async () => {
      const res = await cp.call('POST', '/v1/exports', {
        token: admin,
        body: exportBody({ listNames: { 'seg-vip': 'VIPs' } }),
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: 'VIP to Autopilot',
        connectionId,
        state: 'ready',
        segmentIds: ['seg-vip', 'seg-new'],
        limitPolicy: 'skip',
        profileLimit: 100000,
        syncMode: 'mirror',
        massRemovalPercent: 20,
        listNames: { 'seg-vip': 'VIPs' },
      });
      expect((await cp.call('GET', `/v1/exports/${res.body.id}/runs`, { token: admin })).body).toEqual([]);
      expect((await cp.call('GET', `/v1/exports/${res.body.id}`, { token: contributor })).body.id).toBe(
        res.body.id,
      );
      expect(
        (await cp.call('GET', '/v1/exports', { token: admin })).body.map((e: { id: string }) => e.id),
      ).toContain(res.body.id);
      expect((await cp.call('GET', `/v1/exports/${res.body.id}`, { token: stranger })).status).toBe(404);
      const patched = await cp.call('PATCH', `/v1/exports/${res.body.id}`, {
        token: admin,
        body: { profileLimit: 500, limitPolicy: 'truncate' },
      });
      expect(patched.body).toMatchObject({
        profileLimit: 500,
        limitPolicy: 'truncate',
        name: 'VIP to Autopilot',
      });
      expect(
        (await cp.call('PATCH', `/v1/exports/${res.body.id}`, { token: admin, body: { profileLimit: -1 } }))
          .body.field,
      ).toBe('profileLimit');
    });

    it('lets contributors use only connections shared with contributors', async () => {
      const refused = await cp.call('POST', '/v1/exports', { token: contributor, body: exportBody() });
      expect(refused.status).toBe(403);
      const allowed = await cp.call('POST', '/v1/exports', {
        token: contributor,
        body: exportBody({ connectionId: sharedConnectionId }),
      });
      expect(allowed.status).toBe(201);
      const moved = await cp.call('PATCH', `/v1/exports/${allowed.body.id}`, {
        token: contributor,
        body: { connectionId },
      });
      expect(moved.status).toBe(403);
      expect((await cp.call('POST', '/v1/exports', { token: operator, body: exportBody() })).status).toBe(
        403,
      );
    });

    it('runs on demand, one at a time, lists runs newest first and cancels them', async () => {
      const { body: exp } = await cp.call('POST', '/v1/exports', { token: admin, body: exportBody() });
      const first = await cp.call('POST', `/v1/exports/${exp.id}/runs`, {
        token: admin,
        headers: { 'x-correlation-id': 'corr-run-1' },
      });
      expect(first.status).toBe(202);
      expect(first.body).toEqual({ runId: expect.any(String), status: 'queued' });
      const second = await cp.call('POST', `/v1/exports/${exp.id}/runs`, { token: admin });
      const run1 = await cp.call('GET', `/v1/runs/${first.body.runId}`, { token: admin });
      expect(run1.body).toMatchObject({
        id: first.body.runId,
        exportId: exp.id,
        status: 'running',
        trigger: 'on-demand',
        dryRun: false,
        phase: 'extracting',
        progress: { done: 0, total: 0 },
      });
      expect(run1.body.counts).toEqual({
        extracted: 0,
        rejected: 0,
        duplicates: 0,
        eligible: 0,
        added: 0,
        updated: 0,
        unchanged: 0,
        removed: 0,
        delivered: 0,
        failed: 0,
        overLimit: 0,
        overQuota: 0,
      });
      expect((await cp.call('GET', `/v1/runs/${second.body.runId}`, { token: admin })).body.status).toBe(
        'queued',
      );
      const list = await cp.call('GET', `/v1/exports/${exp.id}/runs`, { token: admin });
      expect(list.body.map((r: { id: string }) => r.id)).toEqual([second.body.runId, first.body.runId]);
      expect((await cp.call('GET', `/v1/runs/${first.body.runId}`, { token: stranger })).status).toBe(404);
      expect(
        (await cp.call('GET', `/v1/runs/${first.body.runId}/rejections`, { token: admin })).body,
      ).toEqual({ items: [], nextCursor: null });
      expect(
        (await cp.call('GET', `/v1/runs/${first.body.runId}/rejections?cursor=zzz`, { token: admin })).body
          .field,
      ).toBe('cursor');

      // Canceling the running run starts the queued one.
      const canceled = await cp.call('POST', `/v1/runs/${first.body.runId}/cancel`, { token: admin });
      expect(canceled.body).toMatchObject({ status: 'canceled', reason: 'CANCELED' });
      expect((await cp.call('GET', `/v1/runs/${second.body.runId}`, { token: admin })).body.status).toBe(
        'running',
      );
      expect((await cp.call('POST', `/v1/runs/${first.body.runId}/cancel`, { token: admin })).status).toBe(
        409,
      );
      expect((await cp.call('DELETE', `/v1/exports/${exp.id}`, { token: admin })).status).toBe(409);
      await cp.call('POST', `/v1/runs/${second.body.runId}/cancel`, { token: admin });
      expect((await cp.call('DELETE', `/v1/exports/${exp.id}`, { token: admin })).status).toBe(204);
      expect((await cp.call('GET', `/v1/exports/${exp.id}`, { token: admin })).status).toBe(404);
    });

    it('refuses to delete a connection in use (409) until asked to detach; detached exports never run', async () => {
      const { body: conn } = await createConnection({ displayName: 'to remove' });
      const { body: exp } = await cp.call('POST', '/v1/exports', {
        token: admin,
        body: exportBody({ connectionId: conn.id }),
      });
      const refused = await cp.call('DELETE', `/v1/connections/${conn.id}`, { token: admin });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toContain('detach=true');
      const removed = await cp.call('DELETE', `/v1/connections/${conn.id}?detach=true`, { token: admin });
      expect(removed.status).toBe(200);
      expect(removed.body).toEqual({ detachedExports: 1 });
      expect((await cp.call('GET', `/v1/connections/${conn.id}`, { token: admin })).status).toBe(404);
      const detached = await cp.call('GET', `/v1/exports/${exp.id}`, { token: admin });
      expect(detached.body).toMatchObject({
        connectionId: null,
        state: 'no-connection',
        mapping: exp.mapping,
      });
      expect((await cp.call('POST', `/v1/exports/${exp.id}/runs`, { token: admin })).status).toBe(409);
    });
  });

  describe('quotas', () => {
    it('lets tenants read their own quota and only operators set one', async () => {
      expect(
        (await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token: contributor })).body,
      ).toMatchObject({
        tenantId: tenant,
        profilesPerMonth: null,
        used: 0,
        remaining: null,
        month: new Date().toISOString().slice(0, 7),
      });
      expect(
        (
          await cp.call('PUT', `/v1/tenants/${tenant}/quota`, {
            token: admin,
            body: { profilesPerMonth: 10 },
          })
        ).status,
      ).toBe(403);
      expect((await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token: stranger })).status).toBe(404);
      expect(
        (
          await cp.call('PUT', `/v1/tenants/${tenant}/quota`, {
            token: operator,
            body: { profilesPerMonth: -5 },
          })
        ).body.field,
      ).toBe('profilesPerMonth');
      const set = await cp.call('PUT', `/v1/tenants/${tenant}/quota`, {
        token: operator,
        body: { profilesPerMonth: 250000 },
      });
      expect(set.status).toBe(200);
      expect(set.body).toMatchObject({
        tenantId: tenant,
        profilesPerMonth: 250000,
        used: 0,
        remaining: 250000,
      });
      expect(
        (await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token: admin })).body.profilesPerMonth,
      ).toBe(250000);
    });
  });
});
