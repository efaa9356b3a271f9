// First: points the testing helpers and the services at this file's own broker.
import { ownBroker, type OwnBroker } from './support/own-broker';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS, type SegmentRefreshedV1 } from '@export/contracts';
import { ApiClient, expectEventually, produceRaw, signToken, startStack, tenantSnapshotDir, type Stack } from '@export/testing';

interface RunView {
  id: string;
  status: string;
  reason?: string;
  counts: Record<string, number>;
}

const PROFILES = 4000;

/**
 * Restarting the broker in the middle of a delivery paced at 5 requests/s: services report not-ready
 * while it is away, come back by themselves, and the run still ends with every contact delivered once.
 */
describe('broker restart mid-delivery', () => {
  let broker: OwnBroker;
  let stack: Stack;
  let api: ApiClient;
  const apiKey = `sim-restart-${randomUUID()}`;
  const tenantId = `restart-${randomUUID().slice(0, 8)}`;
  const segmentId = 'seg-restart';
  let snapshotPath: string;

  beforeAll(async () => {
    broker = ownBroker();
    broker.start();
    await expectEventually(() => broker.answering(), { timeoutMs: 30000, message: 'own broker answering' });
    stack = await startStack({ apiKeys: [apiKey], simulatorRps: 5 });
    api = new ApiClient(stack.apiUrl, await signToken({ sub: 'restart-admin', tid: tenantId, role: 'admin' }));
    snapshotPath = join(tenantSnapshotDir(tenantId, stack.snapshotRoot), 'members.csv');
    const rows = ['CustomerId,EMail,FirstName'];
    for (let i = 0; i < PROFILES; i++) rows.push(`C-${i},member-${i}@example.com,Member ${i}`);
    writeFileSync(snapshotPath, rows.join('\n') + '\n');
  }, 150_000);

  afterAll(async () => {
    await stack?.stop();
    broker?.destroy();
  });

  const refreshed = (): SegmentRefreshedV1 => ({
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId,
    segment: { id: segmentId, name: 'Restart members', memberCount: PROFILES },
    snapshot: { format: 'csv', location: `file://${snapshotPath}` },
  });

  const simulatorContacts = async () =>
    (await (await fetch(`${stack.simulatorUrl}/__sim/contacts?account=${encodeURIComponent(apiKey)}`)).json()) as {
      count: number;
      contacts: { email: string; upserts: number }[];
    };

  const readiness = async (url: string) => (await fetch(`${url}/readyz`).catch(() => undefined))?.status;
  const serviceUrls = () =>
    Object.values(stack.services)
      .filter((s) => s.name !== 'autopilot-simulator')
      .map((s) => `http://127.0.0.1:${s.port}`);

  it('delivers every contact exactly once across a broker restart, counts exact', async () => {
    await produceRaw(TOPICS.segmentRefreshed.name, [{ key: `${tenantId}:${segmentId}`, value: JSON.stringify(refreshed()) }]);
    await expectEventually(async () => {
      const { body } = await api.call<{ id: string }[] | { items: { id: string }[] }>('GET', '/v1/segments');
      return (Array.isArray(body) ? body : body.items).some((s) => s.id === segmentId);
    }, { timeoutMs: 30000, message: 'segment seen by the control plane' });
    const connection = await api.call<{ id: string }>('POST', '/v1/connections', {
      displayName: 'Autopilot (simulator)',
      apiKey,
      privacyConsent: true,
    });
    expect(connection.status).toBe(201);
    const created = await api.call<{ id: string }>('POST', '/v1/exports', {
      name: 'Restart members',
      connectionId: connection.body.id,
      segmentIds: [segmentId],
      mapping: { email: 'EMail', firstName: 'FirstName' },
    });
    expect(created.status).toBe(201);
    const started = await api.call<{ runId: string }>('POST', `/v1/exports/${created.body.id}/runs`);
    expect(started.status).toBe(202);

    // Mid-delivery: some contacts are in Autopilot, most are not (5 r/s x 100 contacts = 500/s at best).
    await expectEventually(async () => (await simulatorContacts()).count >= 300, {
      timeoutMs: 60000,
      message: 'delivery under way',
    });
    broker.stop();
    const deliveredWhenStopped = (await simulatorContacts()).count;
    expect(deliveredWhenStopped).toBeLessThan(PROFILES);

    // Without the broker, the services say so: every Kafka-consuming service answers /readyz with 503.
    await expectEventually(
      async () => (await Promise.all(serviceUrls().map(readiness))).every((status) => status === 503),
      { timeoutMs: 60000, message: 'every service not-ready while the broker is down' },
    );

    broker.start();
    const run = await expectEventually(
      async () => {
        const { body } = await api.call<RunView>('GET', `/v1/runs/${started.body.runId}`);
        return ['succeeded', 'failed', 'skipped', 'canceled'].includes(body.status) ? body : undefined;
      },
      { timeoutMs: 90000, message: 'the run to finish after the broker restart' },
    );
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'succeeded', reason: undefined });
    expect(run.counts).toMatchObject({
      extracted: PROFILES,
      rejected: 0,
      duplicates: 0,
      eligible: PROFILES,
      delivered: PROFILES,
      failed: 0,
      overLimit: 0,
      overQuota: 0,
    });

    const sim = await simulatorContacts();
    expect(sim.count).toBe(PROFILES);
    const notOnce = sim.contacts.filter((c) => c.upserts !== 1);
    expect(notOnce).toEqual([]);
    expect(new Set(sim.contacts.map((c) => c.email)).size).toBe(PROFILES);

    // And they are ready again by themselves.
    await expectEventually(
      async () => (await Promise.all(serviceUrls().map(readiness))).every((status) => status === 200),
      { timeoutMs: 60000, message: 'every service ready again' },
    );
  });
});
