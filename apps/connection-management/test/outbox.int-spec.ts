import { randomUUID } from 'node:crypto';
import { TOPICS } from '@export/contracts';
import { collectMessages, expectEventually, type CollectedMessage } from '@export/testing';
import { Client } from 'pg';
import { startAutopilotStub } from './support/autopilot-stub';
import { startControlPlane, type RunningControlPlane } from './support/control-plane';

describe('outbox: a message that cannot be sent never holds back the others', () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  let collected: { messages: CollectedMessage[]; stop: () => Promise<void> };
  let db: Client;
  const tenant = `t-outbox-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({ AUTOPILOT_BASE_URL: stub.baseUrl, OUTBOX_POLL_MS: '100' });
    collected = await collectMessages([TOPICS.runControl.name]);
    db = new Client({ connectionString: cp.db.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await collected?.stop();
    await cp?.close();
    await stub?.close();
  });

  const insert = (runId: string, value: unknown) =>
    db.query(
      'INSERT INTO control_plane.outbox (topic, message_key, value, correlation_id) VALUES ($1, $2, $3, $4) RETURNING id',
      [TOPICS.runControl.name, runId, JSON.stringify(value), `corr-${runId}`],
    );

  it('sets a row that can never be sent aside with its error, and sends every row after it', async () => {
    const badRun = randomUUID();
    const goodRun = randomUUID();
    // Not a run-control message: the publisher refuses it (contract violation), on every attempt.
    await insert(badRun, { type: 'explode', runId: badRun });
    await insert(goodRun, { type: 'cancel', runId: goodRun, tenantId: tenant, at: new Date().toISOString() });

    await expectEventually(
      () => collected.messages.find((m) => m.key === goodRun) ?? false,
      { message: 'the row after the bad one published', timeoutMs: 15000 },
    );
    await expectEventually(
      async () => (await db.query('SELECT 1 FROM control_plane.outbox WHERE set_aside_at IS NOT NULL')).rowCount === 1,
      { message: 'bad row set aside' },
    );
    const { rows } = await db.query(
      'SELECT message_key, attempts, last_error, set_aside_at FROM control_plane.outbox ORDER BY id',
    );
    expect(rows).toEqual([
      {
        message_key: badRun,
        attempts: 1,
        last_error: expect.stringContaining('Refusing to publish an invalid export.run-control.v1 message'),
        set_aside_at: expect.any(Date),
      },
    ]);
    expect(collected.messages.some((m) => m.key === badRun)).toBe(false);
    // Reported where operations look.
    const metrics = await cp.call('GET', '/metrics');
    expect(metrics.text).toMatch(/control_plane_outbox_set_aside_total\{[^}]*topic="export.run-control.v1"[^}]*\} 1/);
  });

  it('keeps the order of one key: a later message of a set-aside key waits with it, other keys go on', async () => {
    const runId = randomUUID();
    const other = randomUUID();
    await insert(runId, { type: 'explode', runId });
    await insert(runId, { type: 'cancel', runId, tenantId: tenant, at: new Date().toISOString() });
    await insert(other, { type: 'cancel', runId: other, tenantId: tenant, at: new Date().toISOString() });
    await expectEventually(() => collected.messages.find((m) => m.key === other) ?? false, {
      message: 'other key published',
      timeoutMs: 15000,
    });
    // The round that published `other` commits its bookkeeping right after the send.
    const state = async () =>
      (
        await db.query(
          'SELECT (set_aside_at IS NOT NULL) AS aside FROM control_plane.outbox WHERE message_key = $1 ORDER BY id',
          [runId],
        )
      ).rows;
    await expectEventually(async () => (await state()).length === 2 && (await state())[0].aside, {
      message: 'bad row set aside',
    });
    expect(await state()).toEqual([{ aside: true }, { aside: false }]);
    expect(collected.messages.some((m) => m.key === runId)).toBe(false);
  });
});
