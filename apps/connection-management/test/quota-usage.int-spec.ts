import { randomUUID } from 'node:crypto';
import { TOPICS, type RunEventV1 } from '@export/contracts';
import { expectEventually, produceRaw } from '@export/testing';
import { startAutopilotStub } from './support/autopilot-stub';
import { startControlPlane, type RunningControlPlane } from './support/control-plane';

describe("the tenant's quota figure follows delivery's newest figure, give-backs included", () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  const tenant = `t-quota-${randomUUID().slice(0, 8)}`;
  let admin: string;
  const month = new Date().toISOString().slice(0, 7);

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({ AUTOPILOT_BASE_URL: stub.baseUrl });
    admin = cp.token({ sub: 'alice', tid: tenant, role: 'admin' });
  });

  afterAll(async () => {
    await cp?.close();
    await stub?.close();
  });

  // All on one key (one partition): they arrive in the order sent, as delivery's events of one run do.
  const usage = (used: number, revision?: number) => {
    const event: RunEventV1 = {
      type: 'quota-usage',
      runId: randomUUID(),
      tenantId: tenant,
      at: new Date().toISOString(),
      month,
      used,
      ...(revision === undefined ? {} : { revision }),
    };
    return produceRaw(TOPICS.runEvents.name, [{ key: `quota-${tenant}`, value: JSON.stringify(event) }]);
  };
  const used = async () => (await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token: admin })).body.used;

  it('keeps the newest revision: a give-back lowers the figure, an older higher figure arriving late does not raise it', async () => {
    await usage(1000, 5); // two runs reserved 1,000 in all
    await expectEventually(async () => (await used()) === 1000, { message: 'reservation recorded' });
    await usage(400, 7); // one of them ended and gave back 600
    await expectEventually(async () => (await used()) === 400, { message: 'give-back recorded' });
    await usage(700, 6); // an older figure, late
    await usage(350, 8); // marker: the next give-back
    await expectEventually(async () => (await used()) === 350, { message: 'newest figure' });
    // An event of a producer that sends no revision cannot lower a figure (the higher one wins, as before).
    await usage(10);
    await usage(360, 9);
    await expectEventually(async () => (await used()) === 360, { message: 'after an unversioned event' });
  });

  it("lists the month per day: every day up to today, today's figure the newest one", async () => {
    const quota = (await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token: admin })).body;
    const today = new Date().toISOString().slice(0, 10);
    expect(quota.days).toHaveLength(Number(today.slice(8, 10)));
    expect(quota.days[0].date).toBe(`${month}-01`);
    const last = quota.days[quota.days.length - 1];
    expect(last).toMatchObject({ date: today, total: quota.used });
    expect(quota.days.reduce((sum: number, d: { used: number }) => sum + d.used, 0)).toBe(quota.used);
    // An operator's view of the tenant shows the same days.
    const operator = cp.token({ sub: 'olga', tid: 'ops', role: 'operator' });
    expect((await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token: operator })).body.days).toEqual(quota.days);
  });
});
