import { randomUUID } from 'node:crypto';
import type { RunSpec } from '@export/contracts';
import { createSimulatorTenant } from '@export/testing';
import axios from 'axios';
import {
  publishRun,
  runSpec,
  startDelivery,
  startDeliveryTestEnvironment,
  uid,
  waitForEvent,
  type ContactRow,
  type DeliveryInstance,
  type DeliveryTestEnvironment,
} from './support/harness';

/**
 * Incremental mirror sync (issue 12), delivery's built artifact on the real broker, PostgreSQL and Redis,
 * against the simulator at 5 requests/s: each run is diffed against the export's destination state; only
 * added and updated contacts are sent and counted, leavers leave exactly their list.
 */
describe('autopilot-delivery incremental sync', () => {
  let environment: DeliveryTestEnvironment;
  let sim: DeliveryTestEnvironment['sim'];
  let events: DeliveryTestEnvironment['events'];
  let pg: DeliveryTestEnvironment['pg'];
  const instances: DeliveryInstance[] = [];

  const start = (groupId: string, joinGroup = false, env: Record<string, string> = {}) =>
    startDelivery(environment.deliveryEnv({ KAFKA_GROUP_ID: groupId, ...env }), { joinGroup }).then((i) => {
      instances.push(i);
      return i;
    });

  beforeAll(async () => {
    environment = await startDeliveryTestEnvironment('delivery_incr');
    ({ sim, events, pg } = environment);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await environment?.stop();
  }, 60_000);

  async function tenant() {
    const t = await createSimulatorTenant(sim.url, environment.controlPlane.connections);
    const quotaUsed = async () =>
      (await pg.query('SELECT used FROM delivery.quota_usage WHERE tenant_id = $1', [t.tenantId])).rows[0]?.used;
    return { ...t, quotaUsed };
  }
  type Tenant = Awaited<ReturnType<typeof tenant>>;

  const segment = (segmentId: string, listName: string) => ({
    segmentId,
    segmentName: segmentId,
    listName,
    snapshot: { format: 'jsonl' as const, location: `${segmentId}.jsonl` },
  });

  /** The next run of the same export (same connection, segments, lists), with the given options. */
  const again = (previous: RunSpec, options: Partial<RunSpec> = {}) =>
    runSpec({ ...previous, dryRun: undefined, fullResync: undefined, confirmRemovals: undefined, ...options, runId: randomUUID() });

  async function deliver(spec: RunSpec, rows: ContactRow[]) {
    await publishRun(spec, rows);
    return waitForEvent(events, spec.runId, 'delivery-completed', 60_000);
  }

  async function listMembers(t: Tenant, title: string): Promise<string[]> {
    const lists = (await axios.get(`${sim.url}/__sim/lists`)).data.lists as { account: string; list_id: string; title: string }[];
    const list = lists.find((l) => l.account === t.account && l.title === title);
    if (!list) return [];
    const { members } = (await axios.get(`${sim.url}/__sim/lists/${list.list_id}/members`)).data as {
      members: { email: string }[];
    };
    return members.map((m) => m.email).sort();
  }

  const people = (prefix: string, count: number, extra: Partial<ContactRow> = {}): ContactRow[] =>
    Array.from({ length: count }, (_, i) => ({ email: `${prefix}${i}@example.com`, firstName: 'Same', ...extra }));

  describe('one instance', () => {
    beforeAll(async () => {
      // A lease far longer than a stall of this shared machine: no false takeover repeats a call of a run
      // after its end (the crash tests below take runs over on purpose).
      await start(uid('delivery-incr'), false, { RETENTION_SWEEP_MS: '3600000', DELIVERY_LEASE_MS: '60000' });
    }, 60_000);

    it('a second run of an unchanged segment makes no call and spends no quota', async () => {
      const t = await tenant();
      const first = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, syncMode: 'mirror' });
      expect((await deliver(first, people('u', 150))).counts).toMatchObject({ added: 150, delivered: 150 });
      const [calls, used] = [await t.requests(), await t.quotaUsed()];
      expect(used).toBe(150);

      const second = await deliver(again(first), people('u', 150));
      expect(second.counts).toEqual({
        duplicates: 0,
        eligible: 150,
        delivered: 0,
        failed: 0,
        overLimit: 0,
        overQuota: 0,
        added: 0,
        updated: 0,
        unchanged: 150,
        removed: 0,
      });
      expect(await t.requests()).toBe(calls);
      expect(await t.quotaUsed()).toBe(150);
    }, 90_000);

    it('one changed field sends one contact in one call; the simulator holds the new value', async () => {
      const t = await tenant();
      const first = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, syncMode: 'mirror' });
      await deliver(first, people('f', 120));
      const calls = await t.requests();
      const rows = people('f', 120);
      rows[37] = { ...rows[37], firstName: 'Changed' };
      const second = await deliver(again(first), rows);
      expect(second.counts).toMatchObject({ added: 0, updated: 1, unchanged: 119, delivered: 1, removed: 0 });
      expect((await t.requests()) - calls).toBe(1);
      const changed = (await t.contacts()).find((c) => c.email === 'f37@example.com');
      expect(changed?.fields['FirstName']).toBe('Changed');
      expect(changed?.upserts).toBe(2);
      expect(await t.quotaUsed()).toBe(121);
    }, 90_000);

    it('a leaver leaves exactly the list of the segment it left, unless another export of the connection keeps it there', async () => {
      const t = await tenant();
      const [listA, listB] = [`A ${t.account}`, `B ${t.account}`];
      const first = runSpec({
        tenantId: t.tenantId,
        connectionId: t.connectionId,
        syncMode: 'mirror',
        segments: [segment('seg-a', listA), segment('seg-b', listB)],
      });
      const a = people('a', 20, { segmentId: 'seg-a' });
      const b = people('b', 10, { segmentId: 'seg-b' });
      const both = [
        { email: 'both@example.com', firstName: 'Same', segmentId: 'seg-a' },
        { email: 'both@example.com', firstName: 'Same', segmentId: 'seg-b' },
      ];
      await deliver(first, [...a, ...b, ...both]);
      // Another export of the same connection puts a18 in list A too.
      const other = runSpec({
        tenantId: t.tenantId,
        connectionId: t.connectionId,
        syncMode: 'mirror',
        segments: [segment('seg-o', listA)],
      });
      await deliver(other, [{ email: 'a18@example.com', firstName: 'Same', segmentId: 'seg-o' }]);
      const calls = await t.requests();

      // a18 and a19 left segment A, `both` is now in B only.
      const second = await deliver(again(first), [...a.slice(0, 18), ...b, both[1]]);
      expect(second.counts).toMatchObject({ added: 0, updated: 0, unchanged: 29, removed: 2, delivered: 0 });
      expect((await t.requests()) - calls).toBe(2); // two DELETEs, nothing else
      expect(await listMembers(t, listA)).toEqual(
        [...a.slice(0, 19).map((r) => r.email)].sort(), // a18 stays: the other export still includes it
      );
      expect(await listMembers(t, listB)).toEqual([...b.map((r) => r.email), 'both@example.com'].sort());
      const stored = await t.contacts();
      // Never deleted, never unsubscribed.
      expect(stored.find((c) => c.email === 'a19@example.com')).toMatchObject({ lists: [], unsubscribed: false });
      expect(stored).toHaveLength(31);

      // The state follows: a third identical run removes nothing more and calls nothing.
      const third = await deliver(again(first), [...a.slice(0, 18), ...b, both[1]]);
      expect(third.counts).toMatchObject({ unchanged: 29, removed: 0, delivered: 0 });
      expect((await t.requests()) - calls).toBe(2);
    }, 120_000);

    it('upsert never removes', async () => {
      const t = await tenant();
      const list = `U ${t.account}`;
      const first = runSpec({
        tenantId: t.tenantId,
        connectionId: t.connectionId,
        syncMode: 'upsert',
        segments: [segment('seg-u', list)],
      });
      await deliver(first, people('p', 10, { segmentId: 'seg-u' }));
      const second = await deliver(again(first), people('p', 5, { segmentId: 'seg-u' }));
      expect(second.counts).toMatchObject({ unchanged: 5, removed: 0, delivered: 0 });
      expect(await listMembers(t, list)).toHaveLength(10);
      // Switched to mirror later, the export removes the five it kept.
      const mirror = await deliver(again(first, { syncMode: 'mirror', confirmRemovals: true }), people('p', 5, { segmentId: 'seg-u' }));
      expect(mirror.counts).toMatchObject({ removed: 5 });
      expect(await listMembers(t, list)).toHaveLength(5);
    }, 120_000);

    it('holds removals over the export share (MASS_REMOVAL_HELD) but sends adds and updates; confirmRemovals applies them', async () => {
      const t = await tenant();
      const list = `M ${t.account}`;
      const first = runSpec({
        tenantId: t.tenantId,
        connectionId: t.connectionId,
        syncMode: 'mirror',
        segments: [segment('seg-m', list)],
      });
      await deliver(first, people('m', 10, { segmentId: 'seg-m' }));
      const rows = [...people('m', 5, { segmentId: 'seg-m' }), { email: 'new@example.com', firstName: 'N', segmentId: 'seg-m' }];
      const held = await deliver(again(first), rows);
      expect(held.counts).toMatchObject({ added: 1, removed: 0, delivered: 1 });
      expect(held.notice).toEqual({ code: 'MASS_REMOVAL_HELD', message: expect.stringMatching(/^5 removals held/) });
      expect(await listMembers(t, list)).toHaveLength(11);
      const confirmed = await deliver(again(first, { confirmRemovals: true }), rows);
      expect(confirmed.counts).toMatchObject({ added: 0, unchanged: 6, removed: 5 });
      expect(confirmed.notice).toBeUndefined();
      expect(await listMembers(t, list)).toHaveLength(6);
    }, 120_000);

    it('a dry run calls nothing, spends nothing, changes no state, and predicts exactly the next real run', async () => {
      const t = await tenant();
      const list = `D ${t.account}`;
      const first = runSpec({
        tenantId: t.tenantId,
        connectionId: t.connectionId,
        syncMode: 'mirror',
        quotaPerMonth: 1000,
        segments: [segment('seg-d', list)],
      });
      await deliver(first, people('d', 20, { segmentId: 'seg-d' }));
      const state = async () =>
        (
          await pg.query(
            `SELECT email, contact_hash, segment_ids, list_ids FROM delivery.destination_contacts
              WHERE tenant_id = $1 ORDER BY email`,
            [t.tenantId],
          )
        ).rows;
      const [calls, used, before] = [await t.requests(), await t.quotaUsed(), await state()];
      const rows = people('d', 19, { segmentId: 'seg-d' });
      rows[3] = { ...rows[3], firstName: 'Changed' };
      rows.push({ email: 'fresh@example.com', firstName: 'F', segmentId: 'seg-d' });

      const dry = await deliver(again(first, { dryRun: true }), rows);
      expect(dry.dryRun).toBe(true);
      expect(dry.counts).toMatchObject({ added: 1, updated: 1, unchanged: 18, removed: 1, delivered: 2 });
      expect(await t.requests()).toBe(calls);
      expect(await t.quotaUsed()).toBe(used);
      expect(await state()).toEqual(before);
      expect(await listMembers(t, list)).toHaveLength(20);

      const real = await deliver(again(first), rows);
      expect(real.dryRun).toBeUndefined();
      expect(real.counts).toEqual(dry.counts);
      expect(await t.quotaUsed()).toBe(used + 2);
      expect(await listMembers(t, list)).toHaveLength(20); // 19 + fresh, d19 removed
    }, 120_000);

    it('fullResync sends every contact again and rebuilds the state', async () => {
      const t = await tenant();
      const first = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, syncMode: 'mirror' });
      await deliver(first, people('r', 150));
      await pg.query('UPDATE delivery.destination_contacts SET contact_hash = $2 WHERE tenant_id = $1', [t.tenantId, 'stale']);
      const calls = await t.requests();
      const resync = await deliver(again(first, { fullResync: true }), people('r', 150));
      expect(resync.counts).toMatchObject({ added: 0, updated: 150, unchanged: 0, delivered: 150 });
      expect((await t.requests()) - calls).toBe(2);
      expect((await t.contacts()).every((c) => c.upserts === 2)).toBe(true);
      const { rows } = await pg.query(
        `SELECT count(*)::int AS n FROM delivery.destination_contacts WHERE tenant_id = $1 AND contact_hash <> 'stale' AND contact_id LIKE 'person_%'`,
        [t.tenantId],
      );
      expect(rows[0].n).toBe(150);
    }, 90_000);

    it('a contact that failed is sent again by the next run (never recorded as sent)', async () => {
      const t = await tenant();
      const first = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, syncMode: 'mirror' });
      await axios.put(`${sim.url}/__sim/faults`, { badEmailPattern: '^bad' });
      try {
        const rows = [...people('ok', 20), { email: 'bad@example.com', firstName: 'Same' }];
        expect((await deliver(first, rows)).counts).toMatchObject({ added: 20, failed: 1, delivered: 20 });
      } finally {
        await axios.put(`${sim.url}/__sim/faults`, {});
      }
      const next = await deliver(again(first), [...people('ok', 20), { email: 'bad@example.com', firstName: 'Same' }]);
      expect(next.counts).toMatchObject({ added: 1, unchanged: 20, failed: 0, delivered: 1 });
      expect((await t.contacts()).map((c) => c.email)).toContain('bad@example.com');
    }, 90_000);

    it('seeds the destination state from what the export last delivered before incremental sync', async () => {
      const t = await tenant();
      const first = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, syncMode: 'mirror' });
      await deliver(first, people('s', 30));
      // As an export that delivered before this release: its last successful run in export_contacts, no state.
      await pg.query(
        `INSERT INTO delivery.export_state (tenant_id, export_id, run_id, run_finished_at, contacts)
         VALUES ($1, $2, $3, now(), 30)`,
        [t.tenantId, first.exportId, first.runId],
      );
      await pg.query(
        `INSERT INTO delivery.export_contacts (tenant_id, export_id, email, contact_hash, segment_ids, run_id)
         SELECT tenant_id, export_id, email, contact_hash, segment_ids, run_id FROM delivery.destination_contacts
          WHERE tenant_id = $1`,
        [t.tenantId],
      );
      await pg.query('DELETE FROM delivery.destination_contacts WHERE tenant_id = $1', [t.tenantId]);
      await pg.query('DELETE FROM delivery.destination_exports WHERE tenant_id = $1', [t.tenantId]);
      const calls = await t.requests();
      const next = await deliver(again(first), people('s', 30));
      expect(next.counts).toMatchObject({ added: 0, updated: 0, unchanged: 30, delivered: 0 });
      expect(await t.requests()).toBe(calls);
    }, 90_000);
  });

  describe('crashes and several instances', () => {
    beforeAll(async () => {
      await Promise.all(instances.splice(0).map((i) => i.stop()));
    }, 60_000);

    it('SIGKILL of delivery mid-run, then the next run: no contact lost, none counted twice in the quota', async () => {
      const groupId = uid('delivery-incr-kill');
      const first = await start(groupId, false, { DELIVERY_MAX_RUNS: '1' });
      const t = await tenant();
      const spec = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, syncMode: 'mirror', quotaPerMonth: 10_000 });
      await publishRun(spec, people('k', 2000));
      await waitForEvent(events, spec.runId, 'delivery-progress');
      await first.stop('SIGKILL');
      await start(groupId, true, { DELIVERY_MAX_RUNS: '1' });
      const done = await waitForEvent(events, spec.runId, 'delivery-completed', 60_000);
      expect(done.counts).toMatchObject({ added: 2000, delivered: 2000, failed: 0 });
      expect(await t.contacts()).toHaveLength(2000);
      expect(await t.quotaUsed()).toBe(2000);
      // Every contact recorded once; the next run finds nothing to send.
      const next = await deliver(again(spec), people('k', 2000));
      expect(next.counts).toMatchObject({ unchanged: 2000, delivered: 0, added: 0, updated: 0 });
      expect(await t.quotaUsed()).toBe(2000);
      const { rows } = await pg.query(
        'SELECT count(*)::int AS n FROM delivery.destination_contacts WHERE tenant_id = $1',
        [t.tenantId],
      );
      expect(rows[0].n).toBe(2000);
    }, 150_000);

    it('two instances deliver two exports of one connection at once, each state exact', async () => {
      const groupId = uid('delivery-incr-pair');
      await start(groupId, false, { DELIVERY_MAX_RUNS: '1' });
      await start(groupId, true, { DELIVERY_MAX_RUNS: '1' });
      const t = await tenant();
      const list = `P ${t.account}`;
      const specs = [0, 1].map(() =>
        runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, syncMode: 'mirror', segments: [segment('seg-p', list)] }),
      );
      // Both exports put p0..p299 in the same list; export 1 also p300..p599.
      const rows = [people('p', 300, { segmentId: 'seg-p' }), people('p', 600, { segmentId: 'seg-p' })];
      const firsts = await Promise.all(specs.map((s, i) => deliver(s, rows[i])));
      expect(firsts.map((c) => c.counts.added)).toEqual([300, 600]);
      // Export 1 drops p0..p49 (export 0 still includes them: kept) and p550..p599 (removed).
      const seconds = await Promise.all([
        deliver(again(specs[0]), rows[0]),
        deliver(again(specs[1]), people('p', 550, { segmentId: 'seg-p' }).slice(50)),
      ]);
      expect(seconds.map((c) => c.counts)).toEqual([
        expect.objectContaining({ unchanged: 300, delivered: 0, removed: 0 }),
        expect.objectContaining({ unchanged: 500, delivered: 0, removed: 50 }),
      ]);
      expect(await listMembers(t, list)).toHaveLength(550);
      expect(await t.quotaUsed()).toBe(900);
    }, 150_000);
  });
});
