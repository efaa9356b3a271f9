import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  brokerAnswers,
  createStackTenant,
  expectEventually,
  startPrivateBroker,
  startStack,
  type PrivateBroker,
  type Stack,
  type StackTenant,
} from '@export/testing';

const PROFILES = 4000;

/**
 * Restarting the broker in the middle of a delivery paced at 5 requests/s: services report not-ready
 * while it is away, come back by themselves, and the run still ends with every contact delivered once.
 */
describe('broker restart mid-delivery', () => {
  let broker: PrivateBroker;
  let stack: Stack;
  let tenant: StackTenant;
  const apiKey = `sim-restart-${randomUUID()}`;
  const segmentId = 'seg-restart';
  let snapshotPath: string;

  beforeAll(async () => {
    // A broker of this file alone: stopping it disturbs no other test.
    broker = await startPrivateBroker();
    const kafka = { brokers: broker.brokers };
    await brokerAnswers(kafka);
    stack = await startStack({ apiKeys: [apiKey], simulatorRps: 5, kafka });
    tenant = await createStackTenant(stack, { prefix: 'restart', kafka });
    snapshotPath = join(tenant.snapshotDir, 'members.csv');
    const rows = ['CustomerId,EMail,FirstName'];
    for (let i = 0; i < PROFILES; i++) rows.push(`C-${i},member-${i}@example.com,Member ${i}`);
    writeFileSync(snapshotPath, rows.join('\n') + '\n');
  }, 150_000);

  afterAll(async () => {
    await stack?.stop();
    broker?.destroy();
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
    await tenant.refresh({
      segment: { id: segmentId, name: 'Restart members', memberCount: PROFILES },
      snapshot: { format: 'csv', location: `file://${snapshotPath}` },
    });
    await tenant.segmentKnown(segmentId);
    const connection = await tenant.connect(apiKey);
    const exportId = await tenant.createExport({
      name: 'Restart members',
      connectionId: connection.id,
      segmentIds: [segmentId],
      mapping: { email: 'EMail', firstName: 'FirstName' },
    });
    const runId = await tenant.run(exportId);

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
    const run = await tenant.runEnded(runId);
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

    // And they are ready again by themselves (a consumer that lost the broker rejoins after kafkajs' retry backoff,
    // which on a loaded 2-core CI machine took longer than 60 s once).
    await expectEventually(
      async () => (await Promise.all(serviceUrls().map(readiness))).every((status) => status === 200),
      { timeoutMs: 120000, message: 'every service ready again' },
    );
  }, 300_000);
});
