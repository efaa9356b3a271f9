import { randomUUID } from 'node:crypto';
import { TOPICS } from '@export/contracts';
import { expectEventually, produceRaw } from '@export/testing';
import axios from 'axios';
import {
  emails,
  produceRunMessages,
  publishRun,
  runMessages,
  runSpec,
  startDelivery,
  startDeliveryTestEnvironment,
  uid,
  waitForEvent,
  type DeliveryInstance,
  type DeliveryTestEnvironment,
} from './support/harness';

/**
 * One delivery instance (built artifact) on the real broker, PostgreSQL and Redis, against the simulator's
 * built artifact enforcing 5 requests/s per key, fed with contacts-mapped batches like field-mapping sends.
 */
describe('autopilot-delivery', () => {
  let environment: DeliveryTestEnvironment;
  let sim: DeliveryTestEnvironment['sim'];
  let controlPlane: DeliveryTestEnvironment['controlPlane'];
  let events: DeliveryTestEnvironment['events'];
  let pg: DeliveryTestEnvironment['pg'];
  let delivery: DeliveryInstance;

  beforeAll(async () => {
    environment = await startDeliveryTestEnvironment('delivery_it');
    ({ sim, controlPlane, events, pg } = environment);
    delivery = await startDelivery(
      environment.deliveryEnv({
        KAFKA_GROUP_ID: uid('delivery-it'),
        AUTOPILOT_TIMEOUT_MS: '1000',
        // These tests read ended runs' contacts from the ledger: keep them (retention has its own suite).
        RETENTION_SWEEP_MS: '3600000',
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await delivery?.stop();
    await environment?.stop();
  }, 60_000);

  afterEach(async () => {
    await axios.put(`${sim.url}/__sim/faults`, {});
  });

  /** A tenant with its own connection and Autopilot account (key). */
  async function tenant() {
    const tenantId = uid('tenant');
    const connectionId = uid('conn');
    const apiKey = `key-${randomUUID()}`;
    const account = uid('account');
    await axios.post(`${sim.url}/__sim/keys`, { key: apiKey, account });
    controlPlane.connections.set(connectionId, { tenantId, apiKey, status: 'active' });
    const contacts = async () =>
      (await axios.get(`${sim.url}/__sim/contacts`, { params: { account } })).data.contacts as {
        email: string;
        lists: string[];
        upserts: number;
      }[];
    return { tenantId, connectionId, apiKey, account, contacts };
  }

  const faults = (switches: Record<string, unknown>) => axios.put(`${sim.url}/__sim/faults`, switches);

  it('delivers a run once, de-duplicated, into one list per segment, paced under the rate limit', async () => {
    const t = await tenant();
    const run = runSpec({
      tenantId: t.tenantId,
      connectionId: t.connectionId,
      segments: [
        {
          segmentId: 'seg-a',
          segmentName: 'A',
          listName: `VIP ${t.account}`,
          snapshot: { format: 'jsonl', location: 'a.jsonl' },
        },
        {
          segmentId: 'seg-b',
          segmentName: 'B',
          listName: `Churn ${t.account}`,
          snapshot: { format: 'jsonl', location: 'b.jsonl' },
        },
      ],
    });
    // 1000 in segment A; segment B holds 200 of them again (other case) and 100 more.
    const rows = [
      ...emails('p', 1000),
      ...emails('P', 200).map((r) => ({ ...r, segmentId: 'seg-b' })),
      ...emails('q', 100).map((r) => ({ ...r, segmentId: 'seg-b' })),
    ];
    // Every batch twice (a redelivery), the end once: staging happens once per batch.
    await publishRun(run, rows, 250);
    await publishRun(run, rows, 250);

    const completed = await waitForEvent(events, run.runId, 'delivery-completed');
    expect(completed.counts).toEqual({
      duplicates: 200,
      eligible: 1100,
      delivered: 1100,
      failed: 0,
      overLimit: 0,
      overQuota: 0,
      added: 1100,
      updated: 0,
      unchanged: 0,
      removed: 0,
    });
    const types = events.forRun(run.runId).map((e) => e.type);
    expect(types.filter((x) => x === 'delivery-started')).toHaveLength(1);
    expect(types).toContain('quota-usage');

    const contacts = await t.contacts();
    expect(contacts).toHaveLength(1100);
    const stats = await sim.stats();
    const lists = stats.lists.filter((l) => l.account === t.account);
    expect(lists.map((l) => [l.title, l.members]).sort()).toEqual([
      [`Churn ${t.account}`, 300],
      [`VIP ${t.account}`, 1000],
    ]);
    expect(contacts.find((c) => c.email === 'p5@example.com')?.lists).toHaveLength(2);
    expect(stats.duplicateListTitles.count).toBe(0);
    expect(stats.duplicateEmailsInBulk).toBe(0);
    expect(stats.keys[t.apiKey].maxRequestsInWindow).toBeLessThanOrEqual(5);
    expect(stats.keys[t.apiKey].requests - stats.keys[t.apiKey].admitted).toBe(0);

    const { rows: ledger } = await pg.query(
      `SELECT status, count(*)::int AS n FROM delivery.run_contacts WHERE run_id = $1 GROUP BY status`,
      [run.runId],
    );
    expect(ledger).toEqual([{ status: 'sent', n: 1100 }]);
  });

  it('skips a run over the profile limit (policy skip) before any call', async () => {
    const t = await tenant();
    const run = runSpec({
      tenantId: t.tenantId,
      connectionId: t.connectionId,
      profileLimit: 50,
      limitPolicy: 'skip',
    });
    await publishRun(run, emails('s', 60));
    const skipped = await waitForEvent(events, run.runId, 'run-skipped');
    expect(skipped).toMatchObject({
      reason: 'PROFILE_LIMIT_EXCEEDED',
      counts: { overLimit: 10, delivered: 0 },
    });
    expect(skipped.message).toContain('60 unique profiles exceed the limit of 50');
    expect((await sim.stats()).keys[t.apiKey].requests).toBe(0);
  });

  it('truncates a run over the profile limit to the first N in source order (policy truncate)', async () => {
    const t = await tenant();
    const run = runSpec({
      tenantId: t.tenantId,
      connectionId: t.connectionId,
      profileLimit: 50,
      limitPolicy: 'truncate',
    });
    await publishRun(run, emails('t', 60), 7);
    const completed = await waitForEvent(events, run.runId, 'delivery-completed');
    expect(completed.counts).toMatchObject({ eligible: 50, delivered: 50, overLimit: 10 });
    const sent = (await t.contacts()).map((c) => c.email).sort();
    expect(sent).toEqual(
      emails('t', 50)
        .map((r) => r.email)
        .sort(),
    );
  });

  it('starts sending a truncate run while its later batches still stage, a skip run once its end is in', async () => {
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, profileLimit: 50, limitPolicy: 'truncate' });
    const row = (seq: number, n: number, firstName = `F${n}`) => ({
      seq,
      email: `e${n}@example.com`,
      segmentId: run.segments[0].segmentId,
      contact: { Email: `e${n}@example.com`, FirstName: firstName },
    });
    const batch = (batchSeq: number, contacts: ReturnType<typeof row>[]) =>
      ({ kind: 'batch', run, batchSeq, rejected: 0, contacts }) as const;
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    // Rows 0-39 of the snapshot (row 10 comes late), certainly within the limit of 50 whatever follows.
    await produceRunMessages(run, [
      batch(0, range(0, 20).filter((n) => n !== 10).map((n) => row(n, n))),
      batch(1, range(20, 40).map((n) => row(n, n))),
    ]);
    const started = await waitForEvent(events, run.runId, 'delivery-started');
    expect(started.counts.overLimit).toBe(0);
    await expectEventually(async () => ((await sim.stats()).keys[t.apiKey]?.requests ?? 0) > 0 || undefined, {
      timeoutMs: 30_000,
      message: 'a first call before the last batch',
    });
    // The last batch: row 10 is e25 again with other fields (its earliest row: these win), rows 40-59, and e10 at
    // row 60 (past the limit: the first 50 contacts in row order are rows 0-50 without e10).
    await produceRunMessages(run, [
      batch(2, [row(10, 25, 'Earlier'), ...range(40, 60).map((n) => row(n, n)), row(60, 10)]),
      { kind: 'end', run, batches: 3, extracted: 61 },
    ]);
    const completed = await waitForEvent(events, run.runId, 'delivery-completed');
    expect(completed.counts).toMatchObject({ eligible: 50, delivered: 50, overLimit: 10, duplicates: 1, failed: 0 });
    const sent = await t.contacts();
    const expected = [...range(0, 10), ...range(11, 51)].map((n) => `e${n}@example.com`);
    expect(sent.map((c) => c.email).sort()).toEqual(expected.sort());
    const e25 = (await axios.get(`${sim.url}/__sim/contacts`, { params: { account: t.account, email: 'e25@example.com' } }))
      .data.contacts.find((c: { email: string }) => c.email === 'e25@example.com');
    expect(e25.fields.FirstName).toBe('Earlier');
    const { rows: quota } = await pg.query('SELECT used FROM delivery.quota_usage WHERE tenant_id = $1', [t.tenantId]);
    expect(quota).toEqual([{ used: 50 }]);

    // A skip run cannot know its total before its end: it waits for it. Once the end says 45 rows were extracted
    // (5 of them rejected by mapping), no more than 45 contacts can come: it sends before its last batch, having
    // reserved 45 from the quota, and gives back the 5 it did not use.
    const u = await tenant();
    const skip = runSpec({ tenantId: u.tenantId, connectionId: u.connectionId, profileLimit: 50, limitPolicy: 'skip' });
    const skipped = runMessages(skip, emails('s', 40), 20);
    await produceRunMessages(skip, [skipped.batches[0]]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await sim.stats()).keys[u.apiKey]?.requests ?? 0).toBe(0);
    await produceRunMessages(skip, [{ kind: 'end', run: skip, batches: 2, extracted: 45 }]);
    await expectEventually(async () => ((await sim.stats()).keys[u.apiKey]?.requests ?? 0) > 0 || undefined, {
      timeoutMs: 30_000,
      message: 'a first call of the skip run before its last batch',
    });
    await produceRunMessages(skip, [skipped.batches[1]]);
    expect((await waitForEvent(events, skip.runId, 'delivery-completed')).counts).toMatchObject({ delivered: 40 });
    expect(await u.contacts()).toHaveLength(40);
    const { rows: used } = await pg.query('SELECT used FROM delivery.quota_usage WHERE tenant_id = $1', [u.tenantId]);
    expect(used).toEqual([{ used: 40 }]);
  });

  it('sends a run whose end came with its last batch in steps: its first calls do not wait for the whole diff', async () => {
    // All batches and the end at once: the run is ready before anything of it is classified. One segment, not a dry
    // run, no more rows than its limit: classified in steps of 5,000, each sent while the next is classified.
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    await publishRun(run, emails('w', 12_000), 100);
    const completed = await waitForEvent(events, run.runId, 'delivery-completed');
    expect(completed.counts).toMatchObject({ eligible: 12_000, added: 12_000, delivered: 12_000, failed: 0 });
    expect(await t.contacts()).toHaveLength(12_000);
    const { rows } = await pg.query('SELECT classified_early, quota_reserved FROM delivery.runs WHERE run_id = $1', [run.runId]);
    expect(rows).toEqual([{ classified_early: 12_000, quota_reserved: 12_000 }]);

    // A run of two segments (a contact in both would be sent once per step it is seen in) is decided whole.
    const u = await tenant();
    const two = runSpec({
      tenantId: u.tenantId,
      connectionId: u.connectionId,
      segments: ['seg-a', 'seg-b'].map((segmentId) => ({
        segmentId,
        segmentName: segmentId,
        listName: `${segmentId} ${u.account}`,
        snapshot: { format: 'jsonl' as const, location: `${segmentId}.jsonl` },
      })),
    });
    await publishRun(two, [...emails('x', 300), ...emails('x', 300).map((r) => ({ ...r, segmentId: 'seg-b' }))], 100);
    expect((await waitForEvent(events, two.runId, 'delivery-completed')).counts).toMatchObject({ delivered: 300 });
    const { rows: whole } = await pg.query('SELECT classified_early FROM delivery.runs WHERE run_id = $1', [two.runId]);
    expect(whole).toEqual([{ classified_early: 0 }]);
  });

  it('skips a run over the remaining monthly quota (policy skip)', async () => {
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, quotaPerMonth: 100 });
    await publishRun(run, emails('u', 120));
    const skipped = await waitForEvent(events, run.runId, 'run-skipped');
    expect(skipped).toMatchObject({ reason: 'QUOTA_EXCEEDED', counts: { overQuota: 20 } });
    expect((await sim.stats()).keys[t.apiKey].requests).toBe(0);
  });

  it('holds the quota exactly when two runs of one tenant race (policy truncate)', async () => {
    const t = await tenant();
    const a = runSpec({
      tenantId: t.tenantId,
      connectionId: t.connectionId,
      quotaPerMonth: 150,
      limitPolicy: 'truncate',
    });
    const b = runSpec({
      tenantId: t.tenantId,
      connectionId: t.connectionId,
      quotaPerMonth: 150,
      limitPolicy: 'truncate',
    });
    await Promise.all([publishRun(a, emails('ra', 100)), publishRun(b, emails('rb', 100))]);
    const [ca, cb] = await Promise.all([
      waitForEvent(events, a.runId, 'delivery-completed'),
      waitForEvent(events, b.runId, 'delivery-completed'),
    ]);
    expect(ca.counts.delivered + cb.counts.delivered).toBe(150);
    expect(ca.counts.overQuota + cb.counts.overQuota).toBe(50);
    expect(await t.contacts()).toHaveLength(150);
    const { rows } = await pg.query('SELECT used FROM delivery.quota_usage WHERE tenant_id = $1', [
      t.tenantId,
    ]);
    expect(rows).toEqual([{ used: 150 }]);
  });

  it('fails only the bad contact of a batch Autopilot answers 400', async () => {
    const t = await tenant();
    await faults({ badEmailPattern: '^bad' });
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    await publishRun(run, [...emails('g', 120), { email: 'bad1@example.com' }, ...emails('h', 79)]);
    const completed = await waitForEvent(events, run.runId, 'delivery-completed');
    expect(completed.counts).toMatchObject({ eligible: 200, delivered: 199, failed: 1 });
    const { rows } = await pg.query(
      `SELECT email, reason FROM delivery.run_contacts WHERE run_id = $1 AND status = 'failed'`,
      [run.runId],
    );
    expect(rows).toEqual([{ email: 'bad1@example.com', reason: expect.stringContaining('400') }]);
    expect(await t.contacts()).toHaveLength(199);
  });

  it('lands e-mails missing from the bulk answer one by one', async () => {
    const t = await tenant();
    await faults({ dropEmailPattern: '^drop' });
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    await publishRun(run, [...emails('m', 50), ...emails('drop', 3)]);
    const completed = await waitForEvent(events, run.runId, 'delivery-completed');
    expect(completed.counts).toMatchObject({ delivered: 53, failed: 0 });
    expect(await t.contacts()).toHaveLength(53);
    expect((await sim.stats()).requests.byRoute['POST /contact']?.['200']).toBeGreaterThanOrEqual(3);
  });

  it('rides out 429 bursts, 503s and timeouts and still delivers everyone once', async () => {
    const t = await tenant();
    await faults({ force429Next: 6, fail503Next: 3, hangNext: 2, hangMs: 2500 });
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    await publishRun(run, emails('f', 800));
    const completed = await waitForEvent(events, run.runId, 'delivery-completed', 55_000);
    expect(completed.counts).toMatchObject({ eligible: 800, delivered: 800, failed: 0 });
    const stats = await sim.stats();
    expect(stats.rateLimited).toBeGreaterThanOrEqual(6);
    expect(stats.keys[t.apiKey].maxRequestsInWindow).toBeLessThanOrEqual(5);
    expect(await t.contacts()).toHaveLength(800);
  });

  it('cancels a delivering run and gives back the quota it did not use', async () => {
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, quotaPerMonth: 10_000 });
    await publishRun(run, emails('x', 3000));
    await waitForEvent(events, run.runId, 'delivery-progress');
    // The control plane ends the run, then orders the stages to stop (delivery checks the order with it).
    const known = controlPlane.runs.get(run.runId);
    if (known) known.status = 'canceled';
    await produceRaw(TOPICS.runControl.name, [
      {
        key: run.runId,
        value: JSON.stringify({
          type: 'cancel',
          runId: run.runId,
          tenantId: t.tenantId,
          at: new Date().toISOString(),
        }),
      },
    ]);
    const canceled = await waitForEvent(events, run.runId, 'run-canceled');
    const delivered = canceled.counts?.delivered ?? -1;
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(3000);
    const usage = events.forRun(run.runId).filter((e) => e.type === 'quota-usage');
    expect(usage.at(-1)).toMatchObject({ used: delivered });
    const before = (await sim.stats()).keys[t.apiKey].requests;
    // Nothing more is sent for the run after it was canceled (the call in hand may still land).
    await expectEventually(async () => (await sim.stats()).keys[t.apiKey].requests === before, {
      timeoutMs: 3000,
    });
    expect((await t.contacts()).length).toBeLessThanOrEqual(delivered + 100);
  });

  it('fails the run on a revoked key, reports the connection and never calls with the key again', async () => {
    const t = await tenant();
    await faults({ revokeAfter: { [t.apiKey]: 4 } });
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, quotaPerMonth: 5000 });
    await publishRun(run, emails('k', 1000));
    const failed = await waitForEvent(events, run.runId, 'run-failed');
    expect(failed).toMatchObject({ stage: 'delivery', code: 'API_KEY_REJECTED' });
    expect(failed.message).not.toContain(t.apiKey);
    const rejected = await waitForEvent(events, run.runId, 'connection-key-rejected');
    expect(rejected.connectionId).toBe(t.connectionId);
    const usage = events.forRun(run.runId).filter((e) => e.type === 'quota-usage');
    expect(usage.at(-1)).toMatchObject({ used: failed.counts?.delivered });

    const requestsBefore = (await sim.stats()).keys[t.apiKey].requests;
    // A second run through the same connection fails at once, without a call.
    const again = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    await publishRun(again, emails('k2', 10));
    expect(await waitForEvent(events, again.runId, 'run-failed')).toMatchObject({ code: 'API_KEY_REJECTED' });
    const stats = await sim.stats();
    expect(stats.unauthorized).toBe(1);
    expect(stats.keys[t.apiKey].requests).toBe(requestsBefore);
    expect(delivery.output()).not.toContain(t.apiKey);
  });

  it('fails a run whose connection is gone', async () => {
    const t = await tenant();
    controlPlane.connections.delete(t.connectionId);
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    await publishRun(run, emails('z', 5));
    expect(await waitForEvent(events, run.runId, 'run-failed')).toMatchObject({ code: 'CONNECTION_MISSING' });
  });
});
