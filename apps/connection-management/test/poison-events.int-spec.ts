import { randomUUID } from 'node:crypto';
import { TOPICS, type DeadLetterV1 } from '@export/contracts';
import { collectMessages, expectEventually, produceRaw, type CollectedMessage } from '@export/testing';
import { startAutopilotStub } from './support/autopilot-stub';
import { segmentRefreshed, startControlPlane, type RunningControlPlane } from './support/control-plane';

/**
 * Issue 11: a segment-refreshed event that PostgreSQL could never store (a NUL in a string, an over-long
 * string) is refused at the edge: dead-lettered at once with the schema reason, and the next event on the
 * same partition is handled (real broker, real PostgreSQL).
 */
describe('poison segment-refreshed events (real broker and PostgreSQL)', () => {
  let cp: RunningControlPlane;
  let stub: Awaited<ReturnType<typeof startAutopilotStub>>;
  let collected: { messages: CollectedMessage[]; stop: () => Promise<void> };
  const tenant = `t-poison-${randomUUID().slice(0, 8)}`;
  let admin: string;

  beforeAll(async () => {
    stub = await startAutopilotStub();
    cp = await startControlPlane({ AUTOPILOT_BASE_URL: stub.baseUrl });
    admin = cp.token({ sub: 'alice', tid: tenant, role: 'admin' });
    collected = await collectMessages([TOPICS.deadLetter.name]);
  });

  afterAll(async () => {
    await collected?.stop();
    await cp?.close();
    await stub?.close();
  });

  const segments = async () =>
    (await cp.call('GET', '/v1/segments', { token: admin })).body as { id: string; name: string }[];

  it('dead-letters a segment name holding a NUL with the schema reason, then handles the next event on the partition', async () => {
    const poisonKey = `${tenant}:seg-nul`;
    const sentAt = Date.now();
    // One key for all three: one partition, in this order.
    await produceRaw(TOPICS.segmentRefreshed.name, [
      { key: poisonKey, value: JSON.stringify(segmentRefreshed(tenant, 'seg-nul', 'VIP\u0000customers')) },
      { key: poisonKey, value: JSON.stringify(segmentRefreshed(tenant, 'seg-long', 'x'.repeat(501))) },
      { key: poisonKey, value: JSON.stringify(segmentRefreshed(tenant, 'seg-after', 'After the poison')) },
    ]);

    const letters = await expectEventually(
      () => {
        const found = collected.messages
          .map((m) => JSON.parse(m.value ?? 'null') as DeadLetterV1 | null)
          .filter((l): l is DeadLetterV1 => !!l && l.consumerGroup === cp.config.KAFKA_GROUP_ID && l.key === poisonKey);
        return found.length >= 2 && found;
      },
      { timeoutMs: 30000, message: 'both poison events dead-lettered' },
    );
    expect(letters.map((l) => l.code)).toEqual(['SCHEMA_MISMATCH', 'SCHEMA_MISMATCH']);
    expect(letters[0].reason).toContain('segment.name: must not contain NUL characters');
    expect(letters[1].reason).toContain('segment.name');
    expect(letters[0].sourceTopic).toBe(TOPICS.segmentRefreshed.name);

    await expectEventually(async () => (await segments()).some((s) => s.id === 'seg-after'), {
      timeoutMs: 30000,
      message: 'the event after the poison ones is registered',
    });
    expect(Date.now() - sentAt).toBeLessThan(30000);
    const ids = (await segments()).map((s) => s.id);
    expect(ids).not.toContain('seg-nul');
    expect(ids).not.toContain('seg-long');
    expect((await cp.call('GET', '/readyz')).status).toBe(200);
  });
});
