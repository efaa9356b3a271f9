import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS, type ContactsMappedV1, type RunSpec } from '@export/contracts';
import { signServiceToken } from '@export/service-auth';
import {
  tenantSnapshotDir,
  ApiClient,
  collectMessages,
  DEV_INTERNAL_AUTH_SECRET,
  expectEventually,
  produceRaw,
  signToken,
  startStack,
  type CollectedMessage,
  type Stack,
} from '@export/testing';

/**
 * Trust boundaries of the running system (issue 10): the control plane serves /internal/* only on its internal
 * listener, to service tokens; delivery confirms every run with it, so a contacts-mapped message written by
 * someone other than the pipeline reaches no Autopilot account.
 */
describe('trust boundaries end to end', () => {
  let stack: Stack;
  let deadLetters: { messages: CollectedMessage[]; stop: () => Promise<void> };
  const keyA = `sim-trust-a-${randomUUID()}`;
  const keyB = `sim-trust-b-${randomUUID()}`;
  const tenantA = `trust-a-${randomUUID().slice(0, 8)}`;
  const tenantB = `trust-b-${randomUUID().slice(0, 8)}`;
  let apiA: ApiClient;
  let apiB: ApiClient;
  let service: string;

  beforeAll(async () => {
    deadLetters = await collectMessages([TOPICS.deadLetter.name]);
    stack = await startStack({ apiKeys: [keyA, keyB], simulatorRps: 0 });
    apiA = new ApiClient(stack.apiUrl, await signToken({ sub: 'admin-a', tid: tenantA, role: 'admin' }));
    apiB = new ApiClient(stack.apiUrl, await signToken({ sub: 'admin-b', tid: tenantB, role: 'admin' }));
    service = await signServiceToken(DEV_INTERNAL_AUTH_SECRET, 'e2e');
  });

  afterAll(async () => {
    await deadLetters?.stop();
    await stack?.stop();
  });

  const simContacts = async () =>
    ((await (await fetch(`${stack.simulatorUrl}/__sim/contacts`)).json()) as { contacts: unknown[] }).contacts.length;

  it('delivers a genuine run, then refuses forged contacts-mapped messages: nothing more reaches Autopilot', async () => {
    // A genuine run of tenant A (two contacts).
    // The tenant's own folder under the stack's SNAPSHOT_ROOT: the only place its events may name.
    const snapshot = join(tenantSnapshotDir(tenantA, stack.snapshotRoot), 'members.csv');
    writeFileSync(snapshot, 'EMail\r\nann@example.com\r\nbob@example.com\r\n');
    const event = (segmentId: string) => ({
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      tenantId: tenantA,
      segment: { id: segmentId, name: 'Trust', memberCount: 2 },
      snapshot: { format: 'csv', location: `file://${snapshot}` },
    });
    await produceRaw(TOPICS.segmentRefreshed.name, [{ key: `${tenantA}:seg-trust`, value: JSON.stringify(event('seg-trust')) }]);
    await expectEventually(async () => (await apiA.json<{ id: string }[]>('GET', '/v1/segments')).length === 1, {
      message: 'segment seen',
    });
    const connectionA = await apiA.json<{ id: string }>('POST', '/v1/connections', {
      displayName: 'A',
      apiKey: keyA,
      privacyConsent: true,
    });
    const connectionB = await apiB.json<{ id: string }>('POST', '/v1/connections', {
      displayName: 'B',
      apiKey: keyB,
      privacyConsent: true,
    });
    const exp = await apiA.json<{ id: string }>('POST', '/v1/exports', {
      name: 'trust',
      connectionId: connectionA.id,
      segmentIds: ['seg-trust'],
      mapping: { email: 'EMail' },
    });
    const { runId } = await apiA.json<{ runId: string }>('POST', `/v1/exports/${exp.id}/runs`);
    await expectEventually(
      async () => (await apiA.json<{ status: string }>('GET', `/v1/runs/${runId}`)).status === 'succeeded',
      { timeoutMs: 90_000, message: 'the genuine run to succeed' },
    );
    expect(await simContacts()).toBe(2);

    // The run as the control plane holds it: on the internal listener only, to a service token.
    const internalPath = `/internal/v1/runs/${runId}?tenantId=${tenantA}`;
    const headers = { authorization: `Bearer ${service}` };
    expect((await fetch(`${stack.apiUrl}${internalPath}`, { headers })).status).toBe(404);
    const confirmed = await fetch(`${stack.internalUrl}${internalPath}`, { headers });
    expect(confirmed.status).toBe(200);
    const { spec } = (await confirmed.json()) as { spec: RunSpec };
    expect(spec).toMatchObject({ runId, tenantId: tenantA, connectionId: connectionA.id });

    // Forgeries, as anyone who can write the topic could send them, aimed at tenant B's account.
    const forged = (run: RunSpec): ContactsMappedV1[] => [
      {
        kind: 'batch',
        run,
        batchSeq: 0,
        rejected: 0,
        contacts: [
          { seq: 0, email: 'spam@example.com', segmentId: 'seg-trust', contact: { Email: 'spam@example.com' } },
        ],
      },
      { kind: 'end', run, batches: 1, extracted: 1 },
    ];
    const unknownRun = { ...spec, runId: randomUUID(), tenantId: tenantB, connectionId: connectionB.id };
    const replayedRun = { ...spec, connectionId: connectionB.id, quotaPerMonth: null };
    for (const run of [unknownRun, replayedRun])
      await produceRaw(
        TOPICS.contactsMapped.name,
        forged(run).map((value) => ({ key: run.runId, value: JSON.stringify(value) })),
      );
    const letters = await expectEventually(
      () => {
        const found = deadLetters.messages
          .filter((m) => m.value && (m.key === unknownRun.runId || m.key === runId))
          .map((m) => JSON.parse(m.value as string) as { code: string; consumerGroup: string; reason: string });
        return found.length >= 4 ? found : undefined;
      },
      { timeoutMs: 30_000, message: 'the forged messages dead-lettered' },
    );
    for (const letter of letters) {
      expect(letter.code).toBe('RUN_NOT_CONFIRMED');
      expect(letter.consumerGroup).toMatch(/^autopilot-delivery-/);
    }
    expect(await simContacts()).toBe(2);
  });
});
