import { createSimulatorTenant } from '@export/testing';
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

/** Several delivery instances and crashes: shared pacing, exact quotas, nothing lost. */
describe('autopilot-delivery scaled out', () => {
  let environment: DeliveryTestEnvironment;
  let sim: DeliveryTestEnvironment['sim'];
  let controlPlane: DeliveryTestEnvironment['controlPlane'];
  let events: DeliveryTestEnvironment['events'];
  let pg: DeliveryTestEnvironment['pg'];
  const instances: DeliveryInstance[] = [];
  const start = (groupId: string, joinGroup: boolean) =>
    startDelivery(
      // One run per instance, so runs sharing a key are delivered by different instances at once.
      environment.deliveryEnv({ KAFKA_GROUP_ID: groupId, DELIVERY_MAX_RUNS: '1' }),
      { joinGroup },
    ).then((instance) => {
      instances.push(instance);
      return instance;
    });

  beforeAll(async () => {
    environment = await startDeliveryTestEnvironment('delivery_scale');
    ({ sim, controlPlane, events, pg } = environment);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await environment?.stop();
  }, 60_000);

  const tenant = () => createSimulatorTenant(sim.url, controlPlane.connections);

  it('two instances share one key and one tenant quota: paced, exact, each contact once', async () => {
    const groupId = uid('delivery-scale');
    const pair = [await start(groupId, false), await start(groupId, true)];
    const t = await tenant();
    const spec = () =>
      runSpec({
        tenantId: t.tenantId,
        connectionId: t.connectionId,
        quotaPerMonth: 2500,
        limitPolicy: 'truncate',
      });
    const runs = [spec(), spec(), spec()];
    await Promise.all([
      publishRun(runs[0], emails('one', 1200)),
      publishRun(runs[1], emails('two', 1200)),
      publishRun(runs[2], emails('three', 600)),
    ]);
    const completed = await Promise.all(
      runs.map((r) => waitForEvent(events, r.runId, 'delivery-completed', 55_000)),
    );
    const delivered = completed.reduce((sum, e) => sum + e.counts.delivered, 0);
    const overQuota = completed.reduce((sum, e) => sum + e.counts.overQuota, 0);
    expect(delivered).toBe(2500);
    expect(overQuota).toBe(500);

    const contacts = await t.contacts();
    expect(contacts).toHaveLength(2500);
    expect(contacts.filter((c) => c.upserts !== 1)).toEqual([]);
    const stats = await sim.stats();
    expect(stats.keys[t.apiKey].maxRequestsInWindow).toBeLessThanOrEqual(5);
    expect(stats.rateLimited).toBe(0);
    const { rows } = await pg.query('SELECT used FROM delivery.quota_usage WHERE tenant_id = $1', [
      t.tenantId,
    ]);
    expect(rows).toEqual([{ used: 2500 }]);
    // Both instances delivered: the key was shared across processes, not taken in turns by one.
    for (const instance of pair) {
      const metrics: string = (await axios.get(`${instance.url}/metrics`)).data;
      const line = metrics
        .split('\n')
        .find((l) => l.startsWith('autopilot_delivery_contacts_delivered_total'));
      expect(Number(line?.split(' ').at(-1))).toBeGreaterThan(0);
    }
  }, 90_000);

  it('a killed instance loses nothing: a restarted one resumes the run with exact counts', async () => {
    await Promise.all(instances.splice(0).map((i) => i.stop()));
    const groupId = uid('delivery-kill');
    const first = await start(groupId, false);
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId, quotaPerMonth: 10_000 });
    await publishRun(run, emails('kill', 3000));
    await waitForEvent(events, run.runId, 'delivery-progress');
    await first.stop('SIGKILL');
    // The killed member stays in the group until its session times out; the new one joins beside it.
    await start(groupId, true);
    const completed = await waitForEvent(events, run.runId, 'delivery-completed', 55_000);
    expect(completed.counts).toEqual({
      duplicates: 0,
      eligible: 3000,
      delivered: 3000,
      failed: 0,
      overLimit: 0,
      overQuota: 0,
      added: 3000,
      updated: 0,
      unchanged: 0,
      removed: 0,
    });
    expect(await t.contacts()).toHaveLength(3000);
    const { rows } = await pg.query('SELECT used FROM delivery.quota_usage WHERE tenant_id = $1', [
      t.tenantId,
    ]);
    expect(rows).toEqual([{ used: 3000 }]);
  }, 90_000);

  it('a stopped instance (SIGTERM) hands its runs over at once: another resumes long before the lease would expire', async () => {
    await Promise.all(instances.splice(0).map((i) => i.stop()));
    const groupId = uid('delivery-handover');
    // A lease far longer than the test may wait: only an explicit release lets the other instance resume.
    const startLong = (joinGroup: boolean) =>
      startDelivery(
        environment.deliveryEnv({ KAFKA_GROUP_ID: groupId, DELIVERY_MAX_RUNS: '1', DELIVERY_LEASE_MS: '120000' }),
        { joinGroup },
      ).then((instance) => {
        instances.push(instance);
        return instance;
      });
    const first = await startLong(false);
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    await publishRun(run, emails('handover', 3000));
    await waitForEvent(events, run.runId, 'delivery-progress');
    await startLong(true);
    await first.stop('SIGTERM');
    const stoppedAt = Date.now();
    const completed = await waitForEvent(events, run.runId, 'delivery-completed', 45_000);
    expect(Date.now() - stoppedAt).toBeLessThan(45_000);
    expect(completed.counts).toMatchObject({ eligible: 3000, delivered: 3000, failed: 0 });
    expect(await t.contacts()).toHaveLength(3000);
  }, 120_000);
});
