import { randomUUID } from 'node:crypto';
import { RunRequestedV1, TOPICS, type DeadLetterV1, type RunEventV1 } from '@export/contracts';
import { Client } from 'pg';
import { collectMessages, expectEventually, produceRaw, type CollectedMessage } from '@export/testing';
import { startAutopilotStub } from './support/autopilot-stub';
import { segmentRefreshed, startControlPlane, type RunningControlPlane } from './support/control-plane';

describe('runs over Kafka (real broker and PostgreSQL)', () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  let collected: { messages: CollectedMessage[]; stop: () => Promise<void> };
  const tenant = `t-runs-${randomUUID().slice(0, 8)}`;
  let admin: string;

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({ AUTOPILOT_BASE_URL: stub.baseUrl });
    admin = cp.token({ sub: 'alice', tid: tenant, role: 'admin' });
    collected = await collectMessages([
      TOPICS.runRequested.name,
      TOPICS.runControl.name,
      TOPICS.deadLetter.name,
    ]);
  });

  afterAll(async () => {
    await collected?.stop();
    await cp?.close();
    await stub?.close();
  });

  const refresh = (segmentId: string, event = segmentRefreshed(tenant, segmentId)) =>
    produceRaw(TOPICS.segmentRefreshed.name, [
      { key: `${tenant}:${segmentId}`, value: JSON.stringify(event) },
    ]).then(() => event);
  const runEvent = (event: RunEventV1) =>
    produceRaw(TOPICS.runEvents.name, [
      { key: event.runId, value: JSON.stringify(event), headers: { 'x-correlation-id': 'corr-events' } },
    ]);
  const base = (runId: string) => ({ runId, tenantId: tenant, at: new Date().toISOString() });
  const runsOf = async (exportId: string) =>
    (await cp.call('GET', `/v1/exports/${exportId}/runs`, { token: admin })).body as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const requested = (runId: string) =>
    collected.messages.find((m) => m.topic === TOPICS.runRequested.name && m.key === runId) ?? false;
  const counts = { duplicates: 1, eligible: 7, delivered: 7, failed: 0, overLimit: 0, overQuota: 0 };

  it('turns a segment refresh into one run per event, requests it with the whole RunSpec and tracks it to the end', async () => {
    await refresh('seg-a');
    await refresh('seg-b');
    await expectEventually(
      async () => (await cp.call('GET', '/v1/segments', { token: admin })).body.length === 2,
      { message: 'segments' },
    );
    const { body: connection } = await cp.call('POST', '/v1/connections', {
      token: admin,
      body: { displayName: 'AP', apiKey: `valid-${randomUUID()}`, privacyConsent: true },
    });
    await cp.call('PUT', `/v1/tenants/${tenant}/quota`, {
      token: cp.token({ tid: 'ops', role: 'operator' }),
      body: { profilesPerMonth: 5000 },
    });
    const mapping = { email: 'EMail', lastName: 'LastName' };
    const { body: exp } = await cp.call('POST', '/v1/exports', {
      token: admin,
      body: {
        name: 'A and B',
        connectionId: connection.id,
        segmentIds: ['seg-a', 'seg-b'],
        mapping,
        listNames: { 'seg-a': 'List A' },
      },
    });
    expect(await runsOf(exp.id)).toEqual([]);

    const event = await refresh('seg-a', { ...segmentRefreshed(tenant, 'seg-a', 'Segment A v2') });
    const [run1] = await expectEventually(
      async () => {
        const runs = await runsOf(exp.id);
        return runs.length === 1 && runs;
      },
      { message: 'run after refresh' },
    );
    expect(run1).toMatchObject({ status: 'running', trigger: 'segment-refresh', exportId: exp.id });

    const message = (await expectEventually(() => requested(run1.id), {
      message: 'run-requested',
    })) as CollectedMessage;
    expect(message.headers['x-correlation-id']).toBe(event.eventId);
    const value = RunRequestedV1.parse(JSON.parse(message.value ?? 'null'));
    expect(value.run).toEqual({
      runId: run1.id,
      tenantId: tenant,
      exportId: exp.id,
      connectionId: connection.id,
      trigger: 'segment-refresh',
      segments: [
        { segmentId: 'seg-a', segmentName: 'Segment A v2', listName: 'List A', snapshot: event.snapshot },
        {
          segmentId: 'seg-b',
          segmentName: 'Segment seg-b',
          listName: 'Segment seg-b',
          snapshot: expect.any(Object),
        },
      ],
      mapping,
      limitPolicy: 'skip',
      profileLimit: 100000,
      quotaPerMonth: 5000,
      syncMode: 'mirror',
      massRemovalPercent: 20,
    });

    // A redelivered event creates nothing; a new refresh queues behind the running run (same partition: in order).
    await refresh('seg-a', event);
    await refresh('seg-a');
    const queued = await expectEventually(
      async () => {
        const runs = await runsOf(exp.id);
        return runs.length >= 2 && runs;
      },
      { message: 'second run' },
    );
    expect(queued.map((r) => r.status)).toEqual(['queued', 'running']);
    const run2 = queued[0];

    const rejections = [
      { segmentId: 'seg-a', partition: 'part-0.csv', line: 3, profileId: 'p3', reason: 'email is not valid' },
      { segmentId: 'seg-a', partition: 'part-0.csv', line: 5, reason: 'email is empty' },
    ];
    await runEvent({ type: 'extraction-started', ...base(run1.id) });
    await runEvent({ type: 'rows-rejected', ...base(run1.id), stage: 'mapping', rejections });
    await runEvent({ type: 'rows-rejected', ...base(run1.id), stage: 'mapping', rejections }); // redelivered
    await runEvent({ type: 'extraction-completed', ...base(run1.id), extracted: 10 });
    await runEvent({ type: 'delivery-progress', ...base(run1.id), counts: { ...counts, delivered: 3 } });
    await runEvent({ type: 'delivery-completed', ...base(run1.id), counts });

    const done = await expectEventually(
      async () => {
        const run = (await cp.call('GET', `/v1/runs/${run1.id}`, { token: admin })).body;
        return run.status === 'succeeded' && run;
      },
      { message: 'run 1 succeeded' },
    );
    expect(done.counts).toEqual({
      extracted: 10,
      rejected: 2,
      duplicates: 1,
      eligible: 7,
      // From a producer before incremental sync: every delivered contact counts as added.
      added: 7,
      updated: 0,
      unchanged: 0,
      removed: 0,
      delivered: 7,
      failed: 0,
      overLimit: 0,
      overQuota: 0,
    });
    expect(done).toMatchObject({ phase: 'finished', dryRun: false });
    expect(done.startedAt).toEqual(expect.any(String));
    expect(done.finishedAt).toEqual(expect.any(String));
    const page1 = (await cp.call('GET', `/v1/runs/${run1.id}/rejections?limit=1`, { token: admin })).body;
    expect(page1.items).toEqual([{ ...rejections[0], stage: 'mapping' }]);
    const page2 = (
      await cp.call('GET', `/v1/runs/${run1.id}/rejections?limit=1&cursor=${page1.nextCursor}`, {
        token: admin,
      })
    ).body;
    expect(page2.items).toEqual([{ ...rejections[1], stage: 'mapping' }]);

    // The end of run 1 starts run 2.
    await expectEventually(() => requested(run2.id), { message: 'run 2 requested' });
    expect((await cp.call('GET', `/v1/runs/${run2.id}`, { token: admin })).body.status).toBe('running');
    await runEvent({
      type: 'run-skipped',
      ...base(run2.id),
      reason: 'PROFILE_LIMIT_EXCEEDED',
      message: '120000 profiles exceed the limit of 100000',
      counts: { ...counts, delivered: 0, eligible: 120000 },
    });
    await runEvent({
      type: 'quota-usage',
      ...base(run2.id),
      month: new Date().toISOString().slice(0, 7),
      used: 1234,
    });
    await runEvent({ type: 'connection-key-rejected', ...base(run2.id), connectionId: connection.id });
    const skipped = await expectEventually(
      async () => {
        const run = (await cp.call('GET', `/v1/runs/${run2.id}`, { token: admin })).body;
        return run.status === 'skipped' && run;
      },
      { message: 'run 2 skipped' },
    );
    expect(skipped).toMatchObject({
      reason: 'PROFILE_LIMIT_EXCEEDED',
      message: '120000 profiles exceed the limit of 100000',
    });
    expect(skipped.counts.eligible).toBe(120000);
    await expectEventually(
      async () => (await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token: admin })).body.used === 1234,
      {
        message: 'quota usage',
      },
    );
    expect((await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token: admin })).body.remaining).toBe(
      5000 - 1234,
    );
    await expectEventually(
      async () =>
        (await cp.call('GET', `/v1/connections/${connection.id}`, { token: admin })).body.status ===
        'needs-attention',
      { message: 'connection needs attention' },
    );

    // A run whose key was rejected does not start: it fails at once with the reason.
    const { body: run3 } = await cp.call('POST', `/v1/exports/${exp.id}/runs`, { token: admin });
    expect((await cp.call('GET', `/v1/runs/${run3.runId}`, { token: admin })).body).toMatchObject({
      status: 'failed',
      reason: 'API_KEY_REJECTED',
    });
  });

  it('incremental sync: run options and the sync mode travel in the spec; phases, progress, diff counts and a held removal show', async () => {
    await refresh('seg-i');
    await expectEventually(async () =>
      (await cp.call('GET', '/v1/segments', { token: admin })).body.some((s: { id: string }) => s.id === 'seg-i'),
    );
    const { body: connection } = await cp.call('POST', '/v1/connections', {
      token: admin,
      body: { displayName: 'AP-I', apiKey: `valid-${randomUUID()}`, privacyConsent: true },
    });
    const body = { name: 'I', connectionId: connection.id, segmentIds: ['seg-i'], mapping: { email: 'EMail' } };
    const { body: exp } = await cp.call('POST', '/v1/exports', { token: admin, body });
    expect(exp).toMatchObject({ syncMode: 'mirror', massRemovalPercent: 20 });
    const { body: upsert } = await cp.call('POST', '/v1/exports', {
      token: admin,
      body: { ...body, name: 'I2', syncMode: 'upsert', massRemovalPercent: 5 },
    });
    expect(upsert).toMatchObject({ syncMode: 'upsert', massRemovalPercent: 5 });
    const badMode = await cp.call('PATCH', `/v1/exports/${exp.id}`, { token: admin, body: { syncMode: 'replace' } });
    expect(badMode).toMatchObject({ status: 400, body: { field: 'syncMode' } });
    const badShare = await cp.call('PATCH', `/v1/exports/${exp.id}`, { token: admin, body: { massRemovalPercent: 101 } });
    expect(badShare).toMatchObject({ status: 400, body: { field: 'massRemovalPercent' } });
    const badRun = await cp.call('POST', `/v1/exports/${exp.id}/runs`, { token: admin, body: { dryRun: 'yes' } });
    expect(badRun).toMatchObject({ status: 400, body: { field: 'dryRun' } });
    expect(await runsOf(exp.id)).toEqual([]);

    // An export from before incremental sync keeps upsert.
    const db = new Client({ connectionString: cp.db.url });
    await db.connect();
    const oldId = randomUUID();
    try {
      await db.query(
        `INSERT INTO control_plane.exports (id, tenant_id, name, connection_id, segment_ids, mapping, created_by)
         VALUES ($1, $2, 'old', $3, '{seg-i}', '{"email":"EMail"}', 'alice')`,
        [oldId, tenant, connection.id],
      );
    } finally {
      await db.end();
    }
    expect((await cp.call('GET', `/v1/exports/${oldId}`, { token: admin })).body).toMatchObject({
      syncMode: 'upsert',
      massRemovalPercent: 20,
    });

    const { body: started } = await cp.call('POST', `/v1/exports/${exp.id}/runs`, {
      token: admin,
      body: { dryRun: true, confirmRemovals: true },
    });
    const message = (await expectEventually(() => requested(started.runId), {
      message: 'run-requested',
    })) as CollectedMessage;
    const { run } = RunRequestedV1.parse(JSON.parse(message.value ?? 'null'));
    expect(run).toMatchObject({ syncMode: 'mirror', massRemovalPercent: 20, dryRun: true, confirmRemovals: true });
    expect(run).not.toHaveProperty('fullResync');
    const view = async () => (await cp.call('GET', `/v1/runs/${started.runId}`, { token: admin })).body;
    expect(await view()).toMatchObject({
      dryRun: true,
      fullResync: false,
      confirmRemovals: true,
      phase: 'extracting',
      progress: { done: 0, total: 0 },
    });
    const id = started.runId;
    const diff = { duplicates: 0, eligible: 7, delivered: 0, failed: 0, overLimit: 0, overQuota: 0 };
    await runEvent({ type: 'extraction-completed', ...base(id), extracted: 7 });
    await expectEventually(async () => (await view()).phase === 'staging', { message: 'staging' });
    await runEvent({
      type: 'delivery-started',
      ...base(id),
      counts: { ...diff, added: 0, updated: 0, unchanged: 4, removed: 0 },
    });
    const sending = await expectEventually(async () => {
      const v = await view();
      return v.phase === 'sending' && v;
    });
    expect(sending.progress).toEqual({ done: 0, total: 3 });
    await runEvent({
      type: 'delivery-progress',
      ...base(id),
      counts: { ...diff, delivered: 3, added: 2, updated: 1, unchanged: 4, removed: 1 },
      phase: 'removing',
      progress: { done: 1, total: 2 },
    });
    // A late progress of the sending phase never moves the run back.
    await runEvent({ type: 'delivery-progress', ...base(id), counts: { ...diff, delivered: 3 }, phase: 'sending' });
    await runEvent({ type: 'extraction-completed', ...base(id), extracted: 7 });
    const removing = await expectEventually(async () => {
      const v = await view();
      return v.counts.delivered === 3 && v;
    });
    expect(removing).toMatchObject({ phase: 'removing', progress: { done: 1, total: 2 } });
    await runEvent({
      type: 'delivery-completed',
      ...base(id),
      counts: { ...diff, delivered: 3, added: 2, updated: 1, unchanged: 4, removed: 0 },
      dryRun: true,
      notice: { code: 'MASS_REMOVAL_HELD', message: '2 removals held' },
    });
    const finished = await expectEventually(async () => {
      const v = await view();
      return v.status === 'succeeded' && v;
    });
    expect(finished).toMatchObject({
      phase: 'finished',
      reason: 'MASS_REMOVAL_HELD',
      message: '2 removals held',
      counts: { added: 2, updated: 1, unchanged: 4, removed: 0, delivered: 3 },
    });
  });

  it('publishes a cancel order for a running run and ignores events of unknown runs', async () => {
    await refresh('seg-c');
    await expectEventually(async () =>
      (await cp.call('GET', '/v1/segments', { token: admin })).body.some(
        (s: { id: string }) => s.id === 'seg-c',
      ),
    );
    const { body: connection } = await cp.call('POST', '/v1/connections', {
      token: admin,
      body: { displayName: 'AP2', apiKey: `valid-${randomUUID()}`, privacyConsent: true },
    });
    const { body: exp } = await cp.call('POST', '/v1/exports', {
      token: admin,
      body: { name: 'C', connectionId: connection.id, segmentIds: ['seg-c'], mapping: { email: 'EMail' } },
    });
    const { body: run } = await cp.call('POST', `/v1/exports/${exp.id}/runs`, { token: admin });
    await runEvent({ type: 'extraction-started', ...base(randomUUID()) }); // unknown run: logged, ignored
    // Same key as the next event, so on the same partition: a connection id that is no id of ours must
    // not block what follows.
    await runEvent({ type: 'connection-key-rejected', ...base(run.runId), connectionId: 'conn-not-a-uuid' });
    await runEvent({
      type: 'run-failed',
      ...base(run.runId),
      stage: 'extraction',
      code: 'SNAPSHOT_UNREADABLE',
      message: 'no such file',
    });
    const failed = await expectEventually(
      async () => {
        const r = (await cp.call('GET', `/v1/runs/${run.runId}`, { token: admin })).body;
        return r.status === 'failed' && r;
      },
      { message: 'run failed' },
    );
    expect(failed).toMatchObject({ reason: 'SNAPSHOT_UNREADABLE', message: 'no such file' });

    const { body: again } = await cp.call('POST', `/v1/exports/${exp.id}/runs`, {
      token: admin,
      headers: { 'x-correlation-id': 'corr-cancel' },
    });
    await expectEventually(() => requested(again.runId), { message: 'run requested' });
    const canceled = await cp.call('POST', `/v1/runs/${again.runId}/cancel`, {
      token: admin,
      headers: { 'x-correlation-id': 'corr-cancel-2' },
    });
    expect(canceled.body.status).toBe('canceled');
    const control = (await expectEventually(
      () =>
        collected.messages.find((m) => m.topic === TOPICS.runControl.name && m.key === again.runId) ?? false,
      { message: 'cancel order' },
    )) as CollectedMessage;
    expect(JSON.parse(control.value ?? 'null')).toMatchObject({
      type: 'cancel',
      runId: again.runId,
      tenantId: tenant,
    });
    expect(control.headers['x-correlation-id']).toBe('corr-cancel-2');
  });

  it('sends what a crash left in the outbox (committed, never published) once it runs again', async () => {
    const runId = randomUUID();
    const value = { type: 'cancel', runId, tenantId: tenant, at: new Date().toISOString() };
    const db = new Client({ connectionString: cp.db.url });
    await db.connect();
    try {
      await db.query(
        'INSERT INTO control_plane.outbox (topic, message_key, value, correlation_id) VALUES ($1, $2, $3, $4)',
        [TOPICS.runControl.name, runId, JSON.stringify(value), 'corr-outbox'],
      );
      const sent = (await expectEventually(
        () => collected.messages.find((m) => m.topic === TOPICS.runControl.name && m.key === runId) ?? false,
        { message: 'outbox message published' },
      )) as CollectedMessage;
      expect(JSON.parse(sent.value ?? 'null')).toEqual(value);
      expect(sent.headers['x-correlation-id']).toBe('corr-outbox');
      await expectEventually(
        async () => (await db.query('SELECT 1 FROM control_plane.outbox')).rowCount === 0,
        {
          message: 'outbox drained',
        },
      );
    } finally {
      await db.end();
    }
  });

  it('dead-letters malformed events with the reason and goes on with the next one', async () => {
    const key = `${tenant}:seg-bad`;
    await produceRaw(TOPICS.segmentRefreshed.name, [
      { key, value: '{not json' },
      { key, value: JSON.stringify({ eventId: 'e1', tenantId: tenant, segment: { id: 'seg-bad' } }) },
      { key, value: JSON.stringify(segmentRefreshed(tenant, 'seg-bad')) },
    ]);
    // New consumer groups read from the earliest offset, so letters of earlier test runs may come again:
    // only this run's keys and groups count.
    const badRunKey = `r-bad-${tenant}`;
    await produceRaw(TOPICS.runEvents.name, [
      { key: badRunKey, value: JSON.stringify({ type: 'delivery-completed', runId: 'nope' }) },
    ]);
    const groups = [cp.config.KAFKA_GROUP_ID, `${cp.config.KAFKA_GROUP_ID}.run-events`];
    const letters = () =>
      collected.messages
        .filter((m) => m.topic === TOPICS.deadLetter.name)
        .map((m) => JSON.parse(m.value ?? 'null') as DeadLetterV1 | null)
        .filter(
          (l): l is DeadLetterV1 =>
            !!l && groups.includes(l.consumerGroup) && (l.key === key || l.key === badRunKey),
        );
    const { badJson, badShape, badRunEvent } = await expectEventually(
      () => {
        const found = {
          badJson: letters().find((l) => l.code === 'INVALID_JSON'),
          badShape: letters().find(
            (l) => l.code === 'SCHEMA_MISMATCH' && l.sourceTopic === TOPICS.segmentRefreshed.name,
          ),
          badRunEvent: letters().find((l) => l.sourceTopic === TOPICS.runEvents.name),
        };
        return found.badJson && found.badShape && found.badRunEvent && found;
      },
      { message: 'three dead letters' },
    );
    expect(badJson).toMatchObject({
      sourceTopic: TOPICS.segmentRefreshed.name,
      value: '{not json',
      consumerGroup: cp.config.KAFKA_GROUP_ID,
    });
    expect(badJson?.reason).toContain('not valid JSON');
    expect(badShape?.reason).toMatch(/occurredAt|snapshot/);
    expect(badRunEvent).toMatchObject({
      code: 'SCHEMA_MISMATCH',
      consumerGroup: `${cp.config.KAFKA_GROUP_ID}.run-events`,
    });
    await expectEventually(
      async () =>
        (await cp.call('GET', '/v1/segments', { token: admin })).body.some(
          (s: { id: string }) => s.id === 'seg-bad',
        ),
      { message: 'valid event after the bad ones' },
    );
  });
});
