import { randomUUID } from 'node:crypto';
import { TOPICS, type DeadLetterV1 } from '@export/contracts';
import { collectMessages, expectEventually, produceRaw, type CollectedMessage } from '@export/testing';
import { startAutopilotStub } from './support/autopilot-stub';
import { segmentRefreshed, startControlPlane, TEST_SNAPSHOT_ROOT, type RunningControlPlane } from './support/control-plane';

/**
 * Issue 10: a segment-refreshed event may name only a snapshot inside <SNAPSHOT_ROOT>/<tenantId>/ and may
 * not come from the future. Anything else is dead-lettered with its code, the segment is not registered,
 * and the consumer goes on (real broker, real PostgreSQL).
 */
describe('segment-refreshed events outside the tenant folder (real broker and PostgreSQL)', () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  let collected: { messages: CollectedMessage[]; stop: () => Promise<void> };
  const tenant = `t-snap-${randomUUID().slice(0, 8)}`;
  const other = `t-other-${randomUUID().slice(0, 8)}`;
  let admin: string;

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({ AUTOPILOT_BASE_URL: stub.baseUrl, EVENT_MAX_FUTURE_SKEW_MS: '300000' });
    admin = cp.token({ sub: 'alice', tid: tenant, role: 'admin' });
    collected = await collectMessages([TOPICS.deadLetter.name]);
  });

  afterAll(async () => {
    await collected?.stop();
    await cp?.close();
    await stub?.close();
  });

  const letters = (keys: string[]) =>
    collected.messages
      .map((m) => JSON.parse(m.value ?? 'null') as DeadLetterV1 | null)
      .filter((l): l is DeadLetterV1 => !!l && l.consumerGroup === cp.config.KAFKA_GROUP_ID && keys.includes(l.key ?? ''));
  const segmentIds = async () =>
    ((await cp.call('GET', '/v1/segments', { token: admin })).body as { id: string }[]).map((s) => s.id);

  it('dead-letters each refused event with its code, registers none of them, and goes on', async () => {
    const at = (location: string) => ({ ...segmentRefreshed(tenant, 'x'), snapshot: { format: 'csv', location } });
    const cases: { segmentId: string; event: Record<string, unknown>; code: string }[] = [
      {
        segmentId: 'seg-other-tenant-absolute',
        event: at(`${TEST_SNAPSHOT_ROOT}/${other}/seg.csv`),
        code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT',
      },
      {
        segmentId: 'seg-other-tenant-uri',
        event: at(`file://${TEST_SNAPSHOT_ROOT}/${other}/seg.csv`),
        code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT',
      },
      {
        segmentId: 'seg-dot-dot',
        event: at(`${TEST_SNAPSHOT_ROOT}/${tenant}/../${other}/seg.csv`),
        code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT',
      },
      { segmentId: 'seg-etc-passwd', event: at('file:///etc/passwd'), code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT' },
      { segmentId: 'seg-relative', event: at(`${tenant}/seg.csv`), code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT' },
      {
        segmentId: 'seg-future',
        event: { ...segmentRefreshed(tenant, 'x'), occurredAt: new Date(Date.now() + 60 * 60 * 1000).toISOString() },
        code: 'EVENT_FROM_THE_FUTURE',
      },
    ];
    const messages = cases.map((c) => ({
      key: `${tenant}:${c.segmentId}`,
      value: JSON.stringify({ ...c.event, segment: { id: c.segmentId, name: c.segmentId, memberCount: 1 } }),
    }));
    // A tenant id with `..` (and one with a slash): refused by the contract itself.
    const dotDotTenant = { ...segmentRefreshed('..', 'seg-x'), snapshot: { format: 'csv', location: `${TEST_SNAPSHOT_ROOT}/${other}/seg.csv` } };
    const slashTenant = { ...segmentRefreshed(`${tenant}/../${other}`, 'seg-x') };
    const badTenantKeys = [`..:seg-x-${tenant}`, `${tenant}/../${other}:seg-x`];
    messages.push({ key: badTenantKeys[0], value: JSON.stringify(dotDotTenant) });
    messages.push({ key: badTenantKeys[1], value: JSON.stringify(slashTenant) });
    // The same partition key as the last refused one: a valid event after them is still handled.
    messages.push({ key: `${tenant}:seg-future`, value: JSON.stringify(segmentRefreshed(tenant, 'seg-valid-after')) });
    const sentAt = Date.now();
    await produceRaw(TOPICS.segmentRefreshed.name, messages);

    const keys = [...cases.map((c) => `${tenant}:${c.segmentId}`), ...badTenantKeys];
    const found = await expectEventually(
      () => {
        const all = letters(keys);
        return all.length >= keys.length && all;
      },
      { timeoutMs: 30000, message: 'every refused event dead-lettered' },
    );
    expect(Date.now() - sentAt).toBeLessThan(30000);
    for (const c of cases) {
      const letter = found.find((l) => l.key === `${tenant}:${c.segmentId}`);
      expect({ segment: c.segmentId, code: letter?.code }).toEqual({ segment: c.segmentId, code: c.code });
      expect(letter?.sourceTopic).toBe(TOPICS.segmentRefreshed.name);
    }
    for (const key of badTenantKeys) {
      const letter = found.find((l) => l.key === key);
      expect(letter?.code).toBe('SCHEMA_MISMATCH');
      expect(letter?.reason).toContain('tenantId');
    }

    await expectEventually(async () => (await segmentIds()).includes('seg-valid-after'), {
      message: 'the valid event after the refused ones is registered',
    });
    const registered = await segmentIds();
    for (const c of cases) expect(registered).not.toContain(c.segmentId);
    expect((await cp.call('GET', '/readyz')).status).toBe(200);
  });
});
