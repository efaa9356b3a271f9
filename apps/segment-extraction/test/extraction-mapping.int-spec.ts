import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  ContactsMappedV1,
  HEADERS,
  ProfilesExtractedV1,
  RunEventV1,
  TOPICS,
  type RowRejection,
  type RunRequestedV1,
  type RunSpec,
} from '@export/contracts';
import {
  collectMessages,
  expectEventually,
  produceRaw,
  startServiceProcess,
  freePort,
  startGroupAtEnd,
  type CollectedMessage,
  type ServiceProcess,
} from '@export/testing';

const SAMPLE = join(__dirname, '../../../libs/snapshot-reader/fixtures/cdm-sample/model.json');



function runSpec(location: string): RunSpec {
  return {
    runId: randomUUID(),
    tenantId: `it-${randomUUID().slice(0, 8)}`,
    exportId: 'exp-it',
    connectionId: 'conn-it',
    trigger: 'on-demand',
    segments: [
      {
        segmentId: 'seg-high-value',
        segmentName: 'High value customers',
        listName: 'High value customers',
        snapshot: { format: 'cdm-folder', location, entity: 'HighValueCustomers' },
      },
    ],
    mapping: { email: 'EMail', firstName: 'FirstName', lastName: 'LastName' },
    limitPolicy: 'skip',
    profileLimit: 100_000,
    quotaPerMonth: null,
  };
}

async function requestRun(run: RunSpec, correlationId: string): Promise<void> {
  const value: RunRequestedV1 = { run, requestedAt: new Date().toISOString() };
  await produceRaw(TOPICS.runRequested.name, [
    { key: run.runId, value: JSON.stringify(value), headers: { [HEADERS.correlationId]: correlationId } },
  ]);
}

describe('segment-extraction + field-mapping as processes on the real broker', () => {
  const suffix = randomUUID().slice(0, 8);
  let services: ServiceProcess[] = [];
  let collector: { messages: CollectedMessage[]; stop: () => Promise<void> };

  const ofRun = <T>(
    topic: string,
    runId: string,
    parse: (v: unknown) => T,
  ): { value: T; headers: Record<string, string> }[] =>
    collector.messages
      .filter((m) => m.topic === topic && m.key === runId && m.value !== null)
      .map((m) => ({ value: parse(JSON.parse(m.value as string)), headers: m.headers }));

  beforeAll(async () => {
    const extractionGroup = `it-segment-extraction-${suffix}`;
    const mappingGroup = `it-field-mapping-${suffix}`;
    await startGroupAtEnd(extractionGroup, [TOPICS.runRequested.name]);
    await startGroupAtEnd(mappingGroup, [TOPICS.profilesExtracted.name]);
    collector = await collectMessages([
      TOPICS.profilesExtracted.name,
      TOPICS.contactsMapped.name,
      TOPICS.runEvents.name,
    ]);
    const [extractionPort, mappingPort] = [await freePort(), await freePort()];
    services = await Promise.all([
      startServiceProcess({
        name: `segment-extraction-it-${suffix}`,
        entry: 'dist/apps/segment-extraction/main.js',
        port: extractionPort,
        env: { KAFKA_GROUP_ID: extractionGroup, LOG_LEVEL: 'warn' },
      }),
      startServiceProcess({
        name: `field-mapping-it-${suffix}`,
        entry: 'dist/apps/field-mapping/main.js',
        port: mappingPort,
        env: { KAFKA_GROUP_ID: mappingGroup, LOG_LEVEL: 'warn' },
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled(services.map((s) => s.stop()));
    await collector?.stop();
  });

  it('maps the cdm-sample segment: 8 contacts, 2 rejections with their rows, end with the totals', async () => {
    const run = runSpec(SAMPLE);
    const correlationId = `it-${randomUUID()}`;
    await requestRun(run, correlationId);

    const mapped = await expectEventually(
      () => {
        const messages = ofRun(TOPICS.contactsMapped.name, run.runId, (v) => ContactsMappedV1.parse(v));
        return messages.some((m) => m.value.kind === 'end') && messages;
      },
      { timeoutMs: 45000, message: 'contacts-mapped end' },
    );
    // Another pipeline on the shared broker may map the same run again: batches are identified by batchSeq.
    const batches = new Map(
      mapped.flatMap((m) => (m.value.kind === 'batch' ? [[m.value.batchSeq, m.value] as const] : [])),
    );
    const end = mapped.find((m) => m.value.kind === 'end')?.value;
    expect(end).toEqual({ kind: 'end', run, batches: 1, extracted: 10 });
    expect([...batches.keys()]).toEqual([0]);
    const batch = batches.get(0);
    if (!batch) throw new Error('batch 0 missing');
    expect(batch.rejected).toBe(2);
    expect(batch.contacts.map((c) => c.seq)).toEqual([0, 1, 4, 5, 6, 7, 8, 9]);
    expect(batch.contacts.map((c) => c.email)).toEqual([
      'anna.rossi@example.com',
      'marco.bianchi@example.com',
      'zoe@contoso.co.uk',
      'jose@fabrikam.io',
      'anna.rossi@example.com',
      'yamada@example.jp',
      'multi.line@example.com',
      'o.brien+news@example.ie',
    ]);
    expect(new Set(batch.contacts.map((c) => c.email)).size).toBe(7);
    expect(batch.contacts[2].contact).toEqual({
      Email: 'zoe@contoso.co.uk',
      FirstName: 'Zoë',
      LastName: 'Müller, Jr.',
    });
    expect(batch.contacts[3].contact.LastName).toBe('Da "Big" Silva');
    expect(batch.contacts.every((c) => c.segmentId === 'seg-high-value')).toBe(true);
    expect(mapped.every((m) => m.headers[HEADERS.correlationId] === correlationId)).toBe(true);

    const events = await expectEventually(
      () => {
        const all = ofRun(TOPICS.runEvents.name, run.runId, (v) => RunEventV1.parse(v)).map((m) => m.value);
        return (
          all.some((e) => e.type === 'extraction-completed') &&
          all.some((e) => e.type === 'rows-rejected') &&
          all
        );
      },
      { message: 'run events' },
    );
    const rejections = new Map<string, RowRejection>();
    for (const event of events) {
      if (event.type !== 'rows-rejected') continue;
      expect(event.stage).toBe('mapping');
      for (const r of event.rejections) rejections.set(`${r.partition}:${r.line}`, r);
    }
    expect([...rejections.values()]).toEqual([
      {
        segmentId: 'seg-high-value',
        partition: 'part-1',
        line: 3,
        profileId: 'C-0003',
        reason: 'missing e-mail (attribute EMail)',
      },
      {
        segmentId: 'seg-high-value',
        partition: 'part-1',
        line: 4,
        profileId: 'C-0004',
        reason: 'invalid e-mail "not-an-email" (attribute EMail)',
      },
    ]);
    expect(events.find((e) => e.type === 'extraction-completed')).toMatchObject({
      extracted: 10,
      tenantId: run.tenantId,
    });
    expect(events.some((e) => e.type === 'extraction-started')).toBe(true);
  });

  it('fails the run naming the file when model.json is missing, without an end', async () => {
    const missing = join(__dirname, `no-such-snapshot-${suffix}/model.json`);
    const run = runSpec(missing);
    await requestRun(run, `it-${randomUUID()}`);

    const failed = await expectEventually(
      () =>
        ofRun(TOPICS.runEvents.name, run.runId, (v) => RunEventV1.parse(v))
          .map((m) => m.value)
          .find((e) => e.type === 'run-failed'),
      { timeoutMs: 30000, message: 'run-failed' },
    );
    expect(failed).toMatchObject({
      stage: 'extraction',
      code: 'SNAPSHOT_UNREADABLE',
      message: expect.stringContaining(missing),
    });
    const extracted = ofRun(TOPICS.profilesExtracted.name, run.runId, (v) => ProfilesExtractedV1.parse(v));
    expect(extracted.some((m) => m.value.kind === 'end')).toBe(false);
  });
});
