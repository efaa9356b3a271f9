import { randomUUID } from 'node:crypto';
import { TOPICS } from '@export/contracts';
import { expectEventually, produceRaw } from '@export/testing';
import { Client } from 'pg';
import { startAutopilotStub } from './support/autopilot-stub';
import { segmentRefreshed, startControlPlane, type RunningControlPlane } from './support/control-plane';

/* eslint-disable @typescript-eslint/no-explicit-any */
describe('run requests: no pile-up of refreshes, idempotent on-demand requests', () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  const tenant = `t-req-${randomUUID().slice(0, 8)}`;
  let admin: string;
  let connectionId: string;

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({ AUTOPILOT_BASE_URL: stub.baseUrl });
    admin = cp.token({ sub: 'alice', tid: tenant, role: 'admin' });
    const { body } = await cp.call('POST', '/v1/connections', {
      token: admin,
      body: { displayName: 'AP', apiKey: `valid-${randomUUID()}`, privacyConsent: true },
    });
    connectionId = body.id;
  });

  afterAll(async () => {
    await cp?.close();
    await stub?.close();
  });

  const refresh = async (segmentId: string) => {
    const event = segmentRefreshed(tenant, segmentId);
    await produceRaw(TOPICS.segmentRefreshed.name, [{ key: `${tenant}:${segmentId}`, value: JSON.stringify(event) }]);
    return event;
  };
  const runsOf = async (exportId: string) =>
    (await cp.call('GET', `/v1/exports/${exportId}/runs`, { token: admin })).body as any[];
  const exportOn = async (segmentId: string) => {
    await refresh(segmentId);
    await expectEventually(
      async () => (await cp.call('GET', '/v1/segments', { token: admin })).body.some((s: any) => s.id === segmentId),
      { message: 'segment known' },
    );
    const { body } = await cp.call('POST', '/v1/exports', {
      token: admin,
      body: { name: `on ${segmentId}`, connectionId, segmentIds: [segmentId], mapping: { email: 'EMail' } },
    });
    return body.id as string;
  };

  it('a refresh arriving while a run of the export is queued does not queue another', async () => {
    const exportId = await exportOn('seg-pile');
    const first = await cp.call('POST', `/v1/exports/${exportId}/runs`, { token: admin });
    expect(first.status).toBe(202);
    // The first run is running; this refresh queues one behind it.
    await refresh('seg-pile');
    await expectEventually(async () => (await runsOf(exportId)).length === 2, { message: 'queued run' });
    // Two more refreshes while that run is still queued: it will read the latest snapshot; nothing more queues.
    await refresh('seg-pile');
    await refresh('seg-pile');
    // A later event on the same partition (same key) handled means both refreshes were handled.
    await produceRaw(TOPICS.segmentRefreshed.name, [
      { key: `${tenant}:seg-pile`, value: JSON.stringify(segmentRefreshed(tenant, 'seg-pile', 'Marker name')) },
    ]);
    await expectEventually(
      async () =>
        (await cp.call('GET', '/v1/segments', { token: admin })).body.find((s: any) => s.id === 'seg-pile')?.name ===
        'Marker name',
      { message: 'later event handled' },
    );
    const runs = await runsOf(exportId);
    expect(runs.map((r) => r.status).sort()).toEqual(['queued', 'running']);
  });

  it('honours Idempotency-Key per export: same key, same run and the same 202 body', async () => {
    const exportId = await exportOn('seg-idem');
    const other = await exportOn('seg-idem-2');
    const key = `retry-${randomUUID()}`;
    const a = await cp.call('POST', `/v1/exports/${exportId}/runs`, { token: admin, headers: { 'idempotency-key': key } });
    const b = await cp.call('POST', `/v1/exports/${exportId}/runs`, { token: admin, headers: { 'idempotency-key': key } });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body).toEqual(a.body);
    expect(await runsOf(exportId)).toHaveLength(1);

    // Another key is another request; the same key on another export is another request too.
    const c = await cp.call('POST', `/v1/exports/${exportId}/runs`, { token: admin, headers: { 'idempotency-key': 'other' } });
    expect(c.body.runId).not.toBe(a.body.runId);
    const d = await cp.call('POST', `/v1/exports/${other}/runs`, { token: admin, headers: { 'idempotency-key': key } });
    expect(d.status).toBe(202);
    expect(d.body.runId).not.toBe(a.body.runId);

    // Kept 24 h: an older key no longer answers for its run.
    const db = new Client({ connectionString: cp.db.url });
    await db.connect();
    await db.query(`UPDATE control_plane.run_request_keys SET created_at = now() - interval '25 hours'`);
    await db.end();
    const e = await cp.call('POST', `/v1/exports/${exportId}/runs`, { token: admin, headers: { 'idempotency-key': key } });
    expect(e.body.runId).not.toBe(a.body.runId);
  });

  it('refuses an Idempotency-Key that is empty, too long or not printable ASCII, naming the header', async () => {
    const exportId = await exportOn('seg-idem-bad');
    for (const bad of ['x'.repeat(256), 'caffè']) {
      const res = await cp.call('POST', `/v1/exports/${exportId}/runs`, { token: admin, headers: { 'idempotency-key': bad } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ field: 'Idempotency-Key' });
    }
    expect(await runsOf(exportId)).toHaveLength(0);
  });
});
