import { randomUUID } from 'node:crypto';
import { TOPICS, type RunSpec } from '@export/contracts';
import { collectMessages, expectEventually } from '@export/testing';
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
 * Kafka is not a trust boundary (issue 10, item 3): delivery takes tenant, connection, limits and quota from
 * the control plane (by run id), never from a contacts-mapped message. A definite "no" dead-letters the
 * message with RUN_NOT_CONFIRMED and nothing is sent; the control plane being down only pauses consumption.
 */
describe('autopilot-delivery run confirmation', () => {
  let environment: DeliveryTestEnvironment;
  let controlPlane: DeliveryTestEnvironment['controlPlane'];
  let delivery: DeliveryInstance;
  let deadLetters: Awaited<ReturnType<typeof collectMessages>>;

  beforeAll(async () => {
    environment = await startDeliveryTestEnvironment('delivery_confirm_it');
    ({ controlPlane } = environment);
    deadLetters = await collectMessages([TOPICS.deadLetter.name]);
    delivery = await startDelivery(
      environment.deliveryEnv({ KAFKA_GROUP_ID: uid('delivery-confirm-it'), AUTOPILOT_RATE_LIMIT_RPS: '0' }),
    );
  }, 120_000);

  afterAll(async () => {
    await controlPlane?.setUp(true);
    await delivery?.stop();
    await deadLetters?.stop();
    await environment?.stop();
  }, 60_000);

  /** A tenant with its own connection and Autopilot account (key). */
  async function tenant() {
    const { sim } = environment;
    const tenantId = uid('tenant');
    const connectionId = uid('conn');
    const apiKey = `key-${randomUUID()}`;
    const account = uid('account');
    await axios.post(`${sim.url}/__sim/keys`, { key: apiKey, account });
    controlPlane.connections.set(connectionId, { tenantId, apiKey, status: 'active' });
    const contacts = async () =>
      ((await axios.get(`${sim.url}/__sim/contacts`, { params: { account } })).data.contacts as unknown[])
        .length;
    return { tenantId, connectionId, apiKey, account, contacts };
  }

  const lettersOf = (runId: string) =>
    deadLetters.messages
      .filter((m) => m.key === runId && m.value)
      .map((m) => JSON.parse(m.value as string) as { code: string; reason: string; consumerGroup: string });

  /** Publishes `run` as the message says and waits until all of its messages (2 batches + end) are dead-lettered. */
  async function expectRefused(message: RunSpec, reason: RegExp) {
    await publishRun(message, emails(`${message.runId.slice(0, 6)}-`, 150), 100);
    const letters = await expectEventually(
      () => {
        const found = lettersOf(message.runId);
        return found.length >= 3 ? found : undefined;
      },
      { timeoutMs: 30_000, message: `dead letters of ${message.runId}` },
    );
    for (const letter of letters) {
      expect(letter.code).toBe('RUN_NOT_CONFIRMED');
      expect(letter.reason).toMatch(reason);
      expect(letter.consumerGroup).toMatch(/^delivery-confirm-it/);
    }
  }

  /** Nothing of the run reached the ledger, and no run event was published for it. */
  async function expectNothingOf(runId: string) {
    const { rows } = await environment.pg.query(
      'SELECT count(*)::int AS n FROM delivery.runs WHERE run_id = $1',
      [runId],
    );
    expect(rows[0].n).toBe(0);
    expect(environment.events.forRun(runId)).toEqual([]);
  }

  it('dead-letters the messages of a run the control plane does not know, and sends nothing', async () => {
    const victim = await tenant();
    const forged = runSpec({ tenantId: victim.tenantId, connectionId: victim.connectionId });
    controlPlane.runs.delete(forged.runId); // made up by whoever wrote the topic
    await expectRefused(forged, /is not a run of tenant/);
    await expectNothingOf(forged.runId);
    expect(await victim.contacts()).toBe(0);
  });

  it("dead-letters a known run's id carrying another tenant's connection or quota, and sends nothing", async () => {
    const attacker = await tenant();
    const victim = await tenant();
    const genuine = runSpec({
      tenantId: attacker.tenantId,
      connectionId: attacker.connectionId,
      quotaPerMonth: 0,
    });
    // The attacker's own run id, pointed at the victim's tenant and connection.
    await expectRefused(
      { ...genuine, tenantId: victim.tenantId, connectionId: victim.connectionId },
      /is not a run of tenant/,
    );
    // ... at the victim's connection only.
    const second = runSpec({
      tenantId: attacker.tenantId,
      connectionId: attacker.connectionId,
      quotaPerMonth: 0,
    });
    await expectRefused(
      { ...second, connectionId: victim.connectionId },
      /differs from the message in connectionId/,
    );
    // ... with its quota of 0 lifted.
    const third = runSpec({
      tenantId: attacker.tenantId,
      connectionId: attacker.connectionId,
      quotaPerMonth: 0,
    });
    await expectRefused({ ...third, quotaPerMonth: null, profileLimit: 100_000 }, /quotaPerMonth/);
    for (const run of [genuine, second, third]) await expectNothingOf(run.runId);
    expect(await victim.contacts()).toBe(0);
    expect(await attacker.contacts()).toBe(0);
  });

  it('dead-letters the messages of a run the control plane has already ended', async () => {
    const t = await tenant();
    const ended = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    const known = controlPlane.runs.get(ended.runId);
    if (known) known.status = 'succeeded';
    await expectRefused(ended, /is succeeded, not delivering/);
    await expectNothingOf(ended.runId);
  });

  it("sends into the lists the control plane's spec names, not the message's", async () => {
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    const genuineList = run.segments[0].listName;
    const forgedList = `Forged ${t.account}`;
    await publishRun(
      { ...run, segments: [{ ...run.segments[0], listName: forgedList }] },
      emails('list-', 120),
      100,
    );
    const completed = await waitForEvent(environment.events, run.runId, 'delivery-completed');
    expect(completed.counts).toMatchObject({ delivered: 120 });
    const lists = (await environment.sim.stats()).lists.filter((l) => l.account === t.account);
    expect(lists.map((l) => l.title)).toEqual([genuineList]);
  });

  it('pauses while the control plane is down, then resumes and completes the run, nothing lost', async () => {
    const t = await tenant();
    const run = runSpec({ tenantId: t.tenantId, connectionId: t.connectionId });
    await controlPlane.setUp(false);
    try {
      await publishRun(run, emails('down-', 300), 100);
      // Delivery notices and pauses its consumers; nothing is staged, dead-lettered or sent meanwhile.
      await expectEventually(
        async () =>
          /kafka_consumer_paused\{[^}]*\} 1/.test((await axios.get(`${delivery.url}/metrics`)).data),
        { timeoutMs: 20_000, message: 'consumers paused' },
      );
      expect(lettersOf(run.runId)).toEqual([]);
      expect(await t.contacts()).toBe(0);
    } finally {
      await controlPlane.setUp(true);
    }
    const completed = await waitForEvent(environment.events, run.runId, 'delivery-completed', 60_000);
    expect(completed.counts).toMatchObject({ eligible: 300, delivered: 300, failed: 0 });
    expect(await t.contacts()).toBe(300);
    expect(lettersOf(run.runId)).toEqual([]);
    // The batch in hand was fetched before the pause; the consumers resume at the watchdog's next round.
    await expectEventually(
      async () => !/kafka_consumer_paused\{[^}]*\} 1/.test((await axios.get(`${delivery.url}/metrics`)).data),
      { timeoutMs: 10_000, message: 'consumers resumed' },
    );
  });
});
