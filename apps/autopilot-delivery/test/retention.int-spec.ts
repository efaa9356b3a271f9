import { randomUUID } from 'node:crypto';
import { TOPICS, type ContactsMappedV1 } from '@export/contracts';
import { collectMessages, expectEventually, produceRaw, testKafka } from '@export/testing';
import axios from 'axios';
import {
  emails,
  publishRun,
  runSpec,
  startDelivery,
  startDeliveryTestEnvironment,
  uid,
  waitForEvent,
  type DeliveryInstance,
  type DeliveryTestEnvironment,
} from './support/harness';

/**
 * Retention of delivery's ledger (personal data) on the real broker and PostgreSQL: staged contacts leave
 * the ledger when their run ends; what the export's next run needs is its destination state (written as it
 * sends), nothing else; runs older than RETENTION_DAYS are purged; a `skip` run stops staging as soon
 * as it is certain to skip.
 */
describe('autopilot-delivery retention', () => {
  let environment: DeliveryTestEnvironment;
  let delivery: DeliveryInstance;
  let pg: DeliveryTestEnvironment['pg'];

  beforeAll(async () => {
    environment = await startDeliveryTestEnvironment('delivery_retention');
    pg = environment.pg;
    delivery = await startDelivery(
      environment.deliveryEnv({
        KAFKA_GROUP_ID: uid('delivery-retention'),
        // Paced as the simulator's key allows (5 r/s): the second run removes 100 contacts one DELETE each, and an
        // unpaced sender against a limited key spends its time in 429 back-offs.
        AUTOPILOT_RATE_LIMIT_RPS: '5',
        RETENTION_PURGE_INTERVAL_MS: '1000',
        RETENTION_SWEEP_MS: '500',
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await delivery?.stop();
    await environment?.stop();
  }, 60_000);

  async function tenant() {
    const tenantId = uid('tenant');
    const connectionId = uid('conn');
    const apiKey = `key-${randomUUID()}`;
    const account = uid('account');
    await axios.post(`${environment.sim.url}/__sim/keys`, { key: apiKey, account });
    environment.controlPlane.connections.set(connectionId, { tenantId, apiKey, status: 'active' });
    const contacts = async () =>
      (await axios.get(`${environment.sim.url}/__sim/contacts`, { params: { account } })).data.contacts as {
        email: string;
      }[];
    return { tenantId, connectionId, apiKey, account, contacts };
  }

  const count = async (sql: string, params: unknown[]) =>
    Number((await pg.query<{ n: string }>(sql, params)).rows[0].n);
  const stagedContacts = (runId: string) =>
    count('SELECT count(*) AS n FROM delivery.run_contacts WHERE run_id = $1', [runId]);

  it("deletes a run's staged contacts when it ends and keeps only the export's destination state", async () => {
    const t = await tenant();
    const exportId = uid('exp');
    const first = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, exportId, syncMode: 'mirror' });
    await publishRun(first, emails('a', 300), 100);
    await waitForEvent(environment.events, first.runId, 'delivery-completed');
    await expectEventually(async () => (await stagedContacts(first.runId)) === 0, {
      message: 'staged contacts of the ended run deleted',
    });
    const state = async () =>
      (
        await pg.query<{ email: string; contact_hash: string; segment_ids: string[] }>(
          `SELECT email, contact_hash, segment_ids FROM delivery.destination_contacts
            WHERE tenant_id = $1 AND export_id = $2 ORDER BY email`,
          [t.tenantId, exportId],
        )
      ).rows;
    const afterFirst = await state();
    expect(afterFirst).toHaveLength(300);
    expect(afterFirst[0]).toEqual({
      email: 'a0@example.com',
      contact_hash: expect.stringMatching(/^[0-9a-f]{32}$/),
      segment_ids: ['seg-a'],
    });
    // The ledger's older form of that state (what the last run delivered) is superseded: not kept twice.
    const ledgerState = () =>
      count(
        `SELECT (SELECT count(*) FROM delivery.export_contacts WHERE tenant_id = $1 AND export_id = $2)
              + (SELECT count(*) FROM delivery.export_state WHERE tenant_id = $1 AND export_id = $2) AS n`,
        [t.tenantId, exportId],
      );
    expect(await ledgerState()).toBe(0);

    // The next run keeps 200 of them and adds 50: the state is what Autopilot now holds for the export.
    const second = runSpec({ ...first, runId: randomUUID(), confirmRemovals: true });
    await publishRun(second, [...emails('a', 200), ...emails('b', 50)], 100);
    const completed = await waitForEvent(environment.events, second.runId, 'delivery-completed');
    expect(completed.counts).toMatchObject({ added: 50, unchanged: 200, removed: 100 });
    await expectEventually(async () => (await stagedContacts(second.runId)) === 0, {
      message: 'staged contacts of the second run deleted',
    });
    const afterSecond = await state();
    expect(afterSecond).toHaveLength(250);
    expect(afterSecond.find((r) => r.email === 'a0@example.com')?.contact_hash).toBe(afterFirst[0].contact_hash);
    expect(await ledgerState()).toBe(0);
    // Nothing of the runs' personal data is left but that state.
    expect(await count('SELECT count(*) AS n FROM delivery.run_contacts WHERE run_id = ANY($1::uuid[])', [
      [first.runId, second.runId],
    ])).toBe(0);
  });

  it('stops staging a skip run as soon as its distinct e-mails exceed the limit, and skips it', async () => {
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, profileLimit: 100 });
    const batch = (batchSeq: number): ContactsMappedV1 => ({
      kind: 'batch',
      run,
      batchSeq,
      rejected: 0,
      contacts: emails(`k${batchSeq}-`, 50).map((r, i) => ({
        seq: batchSeq * 50 + i,
        email: r.email,
        segmentId: 'seg-a',
        contact: { Email: r.email },
      })),
    });
    const send = (values: ContactsMappedV1[]) =>
      produceRaw(
        TOPICS.contactsMapped.name,
        values.map((value) => ({ key: run.runId, value: JSON.stringify(value) })),
      );
    const deadLetters = await collectMessages([TOPICS.deadLetter.name]);
    try {
      // Three batches of 50 distinct e-mails, no `end` yet: 150 > 100 is already certain.
      await send([batch(0), batch(1), batch(2)]);
      const skipped = await waitForEvent(environment.events, run.runId, 'run-skipped');
      expect(skipped.reason).toBe('PROFILE_LIMIT_EXCEEDED');
      expect(skipped.message).toContain('at least 150 unique profiles exceed the limit of 100');
      await expectEventually(async () => (await stagedContacts(run.runId)) === 0, {
        message: 'staged contacts of the skipped run deleted',
      });

      // The rest of the run arrives after the skip (the control plane has ended it): ignored, not staged,
      // not dead-lettered.
      environment.controlPlane.runs.set(run.runId, { spec: run, status: 'skipped' });
      const rest = Array.from({ length: 17 }, (_, i) => batch(i + 3));
      await send([...rest, { kind: 'end', run, batches: 20, extracted: 1000 }]);
      await expectEventually(() => consumedAll(delivery.groupId), {
        message: 'delivery consumed the rest of the run',
        timeoutMs: 30_000,
      });
      expect(
        await count('SELECT count(*) AS n FROM delivery.staged_batches WHERE run_id = $1', [run.runId]),
      ).toBe(3);
      expect(await stagedContacts(run.runId)).toBe(0);
      expect(deadLetters.messages.filter((m) => m.key === run.runId)).toEqual([]);
      expect((await environment.sim.stats()).keys[t.apiKey]?.requests ?? 0).toBe(0);
    } finally {
      await deadLetters.stop();
    }
  });

  it('purges runs older than RETENTION_DAYS, never the pending contacts of a run taken over after a crash', async () => {
    const t = await tenant();
    const exportId = uid('exp');
    // A run an instance was delivering when it crashed 40 days ago (say, the service was down that long):
    // its lease has expired, its contacts are still pending.
    const crashed = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, exportId });
    const oldEnded = randomUUID();
    const oldStaging = randomUUID();
    const insertRun = (runId: string, state: string, spec: unknown) =>
      pg.query(
        `INSERT INTO delivery.runs (run_id, tenant_id, connection_id, spec, state, expected_batches, staged_batches,
           mapped, lease_owner, lease_expires_at, created_at, ready_at, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, 1, 1, 20, 'crashed-instance', now() - interval '40 days',
           now() - interval '40 days', now() - interval '40 days', now() - interval '40 days',
           CASE WHEN $5 = 'succeeded' THEN now() - interval '40 days' END)`,
        [runId, t.tenantId, t.connectionId, JSON.stringify(spec), state],
      );
    const insertContacts = (runId: string, prefix: string) =>
      pg.query(
        `INSERT INTO delivery.run_contacts (run_id, email, seq, contact, segment_ids, status)
         SELECT $1, $2 || g || '@example.com', g, jsonb_build_object('Email', $2 || g || '@example.com'), '{seg-a}', 'pending'
           FROM generate_series(0, 19) g`,
        [runId, prefix],
      );
    await pg.query('BEGIN');
    await insertRun(crashed.runId, 'delivering', crashed);
    await insertContacts(crashed.runId, 'crash');
    await insertRun(oldEnded, 'succeeded', { ...crashed, runId: oldEnded });
    await insertContacts(oldEnded, 'ended');
    await insertRun(oldStaging, 'staging', { ...crashed, runId: oldStaging });
    await insertContacts(oldStaging, 'abandoned');
    await pg.query('COMMIT');

    const completed = await waitForEvent(environment.events, crashed.runId, 'delivery-completed');
    expect(completed.counts.delivered).toBe(20);
    expect((await t.contacts()).filter((c) => c.email.startsWith('crash'))).toHaveLength(20);
    await expectEventually(
      async () =>
        (await count('SELECT count(*) AS n FROM delivery.runs WHERE run_id = ANY($1::uuid[])', [
          [oldEnded, oldStaging],
        ])) === 0,
      { message: 'runs older than RETENTION_DAYS purged' },
    );
    // The crashed run's own contacts go once the sweep has released it (asynchronously, after its end).
    await expectEventually(
      async () =>
        (await count('SELECT count(*) AS n FROM delivery.run_contacts WHERE run_id = ANY($1::uuid[])', [
          [oldEnded, oldStaging, crashed.runId],
        ])) === 0,
      { message: 'no staged contacts left of the purged and the ended runs' },
    );
  });
});

/** True once the group has committed every partition of contacts-mapped up to its end. */
async function consumedAll(groupId: string): Promise<boolean> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(TOPICS.contactsMapped.name);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [TOPICS.contactsMapped.name] });
    return ends.every((end) => {
      const c = committed.partitions.find((p) => p.partition === end.partition);
      return c !== undefined && Number(c.offset) >= Number(end.high);
    });
  } finally {
    await admin.disconnect();
  }
}
