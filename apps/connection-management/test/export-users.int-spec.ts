import { randomUUID } from 'node:crypto';
import { TOPICS } from '@export/contracts';
import { expectEventually, produceRaw } from '@export/testing';
import { startAutopilotStub } from './support/autopilot-stub';
import { segmentRefreshed, startControlPlane, type RunningControlPlane } from './support/control-plane';

/**
 * A connection's export users: when it lists some, only they and admins may set up, run or cancel exports
 * through it; an empty list leaves it to the sharing setting. Cancelling needs the same right as running.
 */
describe('export users and run access (real PostgreSQL and Kafka)', () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  const tenant = `t-xu-${randomUUID().slice(0, 8)}`;
  let alice: string; // admin, creator of the connections
  let bob: string; // admin, not an export user
  let carol: string; // contributor, export user
  let dave: string; // contributor, not an export user
  let restrictedId: string; // shared with contributors, export users alice and carol
  let openId: string; // shared with contributors, no export users
  let adminsOnlyId: string; // not shared with contributors

  const exportBody = (connectionId: string) => ({
    name: `export ${randomUUID().slice(0, 6)}`,
    connectionId,
    segmentIds: ['seg-vip'],
    mapping: { email: 'EMail' },
  });

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({ AUTOPILOT_BASE_URL: stub.baseUrl });
    alice = cp.token({ sub: 'alice', tid: tenant, role: 'admin' });
    bob = cp.token({ sub: 'bob', tid: tenant, role: 'admin' });
    carol = cp.token({ sub: 'carol', tid: tenant, role: 'contributor' });
    dave = cp.token({ sub: 'dave', tid: tenant, role: 'contributor' });
    await produceRaw(TOPICS.segmentRefreshed.name, [
      { key: `${tenant}:seg-vip`, value: JSON.stringify(segmentRefreshed(tenant, 'seg-vip')) },
    ]);
    await expectEventually(
      async () => (await cp.call('GET', '/v1/segments', { token: alice })).body?.length === 1,
      { timeoutMs: 30000, message: 'segment from its event' },
    );
    const create = async (body: Record<string, unknown>) => {
      const res = await cp.call('POST', '/v1/connections', {
        token: alice,
        body: { apiKey: `valid-${randomUUID()}`, privacyConsent: true, ...body },
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    restrictedId = await create({
      displayName: 'restricted',
      allowContributors: true,
      addMeAsExportUser: true,
    });
    const listed = await cp.call('PATCH', `/v1/connections/${restrictedId}`, {
      token: alice,
      body: { exportUsers: ['alice', 'carol'] },
    });
    expect(listed.body.exportUsers).toEqual(['alice', 'carol']);
    openId = await create({ displayName: 'open', allowContributors: true });
    adminsOnlyId = await create({ displayName: 'admins only' });
  });

  afterAll(async () => {
    await cp?.close();
    await stub?.close();
  });

  const post = (path: string, token: string, body?: unknown) => cp.call('POST', path, { token, body });

  it('lets only export users and admins create and edit exports through a connection that lists them', async () => {
    expect((await post('/v1/exports', dave, exportBody(restrictedId))).status).toBe(403);
    const byCarol = await post('/v1/exports', carol, exportBody(restrictedId));
    expect(byCarol.status).toBe(201);
    expect((await post('/v1/exports', bob, exportBody(restrictedId))).status).toBe(201);

    const refused = await cp.call('PATCH', `/v1/exports/${byCarol.body.id}`, {
      token: dave,
      body: { name: 'taken over' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Only the export users of this connection and admins may use it',
    });
    // Nor may an unlisted contributor move an export of their own onto the restricted connection.
    const daves = await post('/v1/exports', dave, exportBody(openId));
    expect(daves.status).toBe(201);
    expect(
      (
        await cp.call('PATCH', `/v1/exports/${daves.body.id}`, {
          token: dave,
          body: { connectionId: restrictedId },
        })
      ).status,
    ).toBe(403);
    expect((await cp.call('DELETE', `/v1/exports/${byCarol.body.id}`, { token: dave })).status).toBe(403);
    expect(
      (await cp.call('PATCH', `/v1/exports/${byCarol.body.id}`, { token: carol, body: { name: 'renamed' } }))
        .status,
    ).toBe(200);
  });

  it('leaves an empty export-user list to the sharing setting', async () => {
    expect((await post('/v1/exports', dave, exportBody(openId))).status).toBe(201);
    expect((await post('/v1/exports', dave, exportBody(adminsOnlyId))).status).toBe(403);
  });

  it('lets only export users and admins run and cancel exports through a connection that lists them', async () => {
    const { body: exp } = await post('/v1/exports', alice, exportBody(restrictedId));
    expect((await post(`/v1/exports/${exp.id}/runs`, dave)).status).toBe(403);
    const run = await post(`/v1/exports/${exp.id}/runs`, carol);
    expect(run.status).toBe(202);
    const queued = await post(`/v1/exports/${exp.id}/runs`, bob);
    expect(queued.status).toBe(202);

    for (const runId of [run.body.runId, queued.body.runId]) {
      const refused = await post(`/v1/runs/${runId}/cancel`, dave);
      expect(refused.status).toBe(403);
      expect(refused.body.message).toBe('Only the export users of this connection and admins may use it');
    }
    const before = await cp.call('GET', `/v1/runs/${queued.body.runId}`, { token: alice });
    expect(before.body.status).not.toBe('canceled');
    // Another stage on the shared broker may end a run first (409); what matters is that access is granted.
    expect([200, 409]).toContain((await post(`/v1/runs/${queued.body.runId}/cancel`, carol)).status);
    expect([200, 409]).toContain((await post(`/v1/runs/${run.body.runId}/cancel`, bob)).status);
  });

  it('lets a contributor cancel only runs of exports they may run (connection shared with contributors)', async () => {
    const { body: exp } = await post('/v1/exports', alice, exportBody(adminsOnlyId));
    const run = await post(`/v1/exports/${exp.id}/runs`, alice);
    expect(run.status).toBe(202);
    expect((await post(`/v1/exports/${exp.id}/runs`, carol)).status).toBe(403);
    const refused = await post(`/v1/runs/${run.body.runId}/cancel`, carol);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('This connection is not shared with contributors');
    expect((await cp.call('GET', `/v1/runs/${run.body.runId}`, { token: alice })).body.status).not.toBe(
      'canceled',
    );
    expect([200, 409]).toContain((await post(`/v1/runs/${run.body.runId}/cancel`, alice)).status);
  });
});
