import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const FIXTURE = join(__dirname, '../../../libs/snapshot-reader/fixtures/cdm-sample');
// SNAPSHOT_ROOT of the extraction process under test; each run's tenant has its folder in it.
const ROOT = mkdtempSync(join(tmpdir(), 'extraction-it-root-'));

/** A fresh tenant with the cdm-sample copied into its folder; returns its id and the sample's model.json. */
function tenantWithSample(): { tenantId: string; sample: string } {
  const tenantId = `it-${randomUUID().slice(0, 8)}`;
  cpSync(FIXTURE, join(ROOT, tenantId, 'cdm-sample'), { recursive: true });
  return { tenantId, sample: join(ROOT, tenantId, 'cdm-sample', 'model.json') };
}

function runSpec(
  location: string,
  tenantId = `it-${randomUUID().slice(0, 8)}`,
  snapshot: Partial<RunSpec['segments'][number]['snapshot']> = {},
): RunSpec {
  return {
    runId: randomUUID(),
    tenantId,
    exportId: 'exp-it',
    connectionId: 'conn-it',
    trigger: 'on-demand',
    segments: [
      {
        segmentId: 'seg-high-value',
        segmentName: 'High value customers',
        listName: 'High value customers',
        snapshot: { format: 'cdm-folder', location, entity: 'HighValueCustomers', ...snapshot },
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
        // A lowered file cap, so a 2 GiB sparse file is over it.
        env: { KAFKA_GROUP_ID: extractionGroup, LOG_LEVEL: 'warn', SNAPSHOT_ROOT: ROOT, SNAPSHOT_MAX_FILE_BYTES: String(1024 ** 3) },
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
    rmSync(ROOT, { recursive: true, force: true });
  });

  it('maps the cdm-sample segment: 8 contacts, 2 rejections with their rows, end with the totals', async () => {
    const { tenantId, sample } = tenantWithSample();
    const run = runSpec(sample, tenantId);
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
    const { tenantId } = tenantWithSample();
    const missing = join(ROOT, tenantId, `no-such-snapshot-${suffix}/model.json`);
    const run = runSpec(missing, tenantId);
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

  it('fails every run whose snapshot leaves the tenant folder or is no regular file, delivering nothing of it, and stays healthy', async () => {
    const { tenantId, sample } = tenantWithSample();
    const { tenantId: otherTenant, sample: otherSample } = tenantWithSample();
    const own = join(ROOT, tenantId);
    symlinkSync(join(ROOT, otherTenant, 'cdm-sample'), join(own, 'linked-folder'));
    symlinkSync('/dev/zero', join(own, 'zero.jsonl'));
    execFileSync('mkfifo', [join(own, 'fifo.csv')]);
    const sparse = openSync(join(own, 'sparse.csv'), 'w');
    ftruncateSync(sparse, 2 * 1024 ** 3);
    closeSync(sparse);
    mkdirSync(join(own, 'steal'));
    writeFileSync(
      join(own, 'steal', 'model.json'),
      JSON.stringify({
        entities: [
          {
            name: 'HighValueCustomers',
            attributes: [{ name: 'CustomerId' }, { name: 'EMail' }, { name: 'FirstName' }, { name: 'LastName' }, { name: 'LoyaltyTier' }, { name: 'LifetimeValue' }],
            partitions: [{ name: 'stolen', location: `../../${otherTenant}/cdm-sample/HighValueCustomers/part-00001.csv` }],
          },
        ],
      }),
    );
    const cases: [string, RunSpec, string][] = [
      ["another tenant's model.json by absolute path", runSpec(otherSample, tenantId), 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
      ["another tenant's model.json by ../", runSpec(`${own}/../${otherTenant}/cdm-sample/model.json`, tenantId), 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
      ["another tenant's folder by a symbolic link", runSpec(join(own, 'linked-folder', 'model.json'), tenantId), 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
      ["another tenant's partition in model.json", runSpec(join(own, 'steal', 'model.json'), tenantId), 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
      ['file:///etc/passwd', runSpec('file:///etc/passwd', tenantId, { format: 'jsonl' }), 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
      ['/dev/zero linked in', runSpec(join(own, 'zero.jsonl'), tenantId, { format: 'jsonl' }), 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
      ['a FIFO', runSpec(join(own, 'fifo.csv'), tenantId, { format: 'csv' }), 'SNAPSHOT_NOT_REGULAR_FILE'],
      ['a 2 GiB sparse file', runSpec(join(own, 'sparse.csv'), tenantId, { format: 'csv' }), 'SNAPSHOT_TOO_LARGE'],
    ];
    const sentAt = Date.now();
    for (const [, run] of cases) await requestRun(run, `it-${randomUUID()}`);
    for (const [name, run, code] of cases) {
      const failed = await expectEventually(
        () =>
          ofRun(TOPICS.runEvents.name, run.runId, (v) => RunEventV1.parse(v))
            .map((m) => m.value)
            .find((e) => e.type === 'run-failed'),
        { timeoutMs: 30000, message: `run-failed for ${name}` },
      );
      expect({ name, code: failed.type === 'run-failed' ? failed.code : undefined }).toEqual({ name, code });
      const extracted = ofRun(TOPICS.profilesExtracted.name, run.runId, (v) => ProfilesExtractedV1.parse(v));
      expect({ name, extracted: extracted.length }).toEqual({ name, extracted: 0 });
      expect(ofRun(TOPICS.contactsMapped.name, run.runId, (v) => v)).toEqual([]);
    }
    expect(Date.now() - sentAt).toBeLessThan(30000);
    const passwdLeak = collector.messages.some((m) => m.value?.includes('root:x:0:0'));
    expect(passwdLeak).toBe(false);
    expect((await fetch(`http://127.0.0.1:${services[0].port}/readyz`)).status).toBe(200);
    // Still extracting: the tenant's own sample goes through.
    const ok = runSpec(sample, tenantId);
    await requestRun(ok, `it-${randomUUID()}`);
    await expectEventually(
      () => ofRun(TOPICS.runEvents.name, ok.runId, (v) => RunEventV1.parse(v)).some((m) => m.value.type === 'extraction-completed'),
      { timeoutMs: 30000, message: 'the next run completes' },
    );
  });

  it('rejects a 5 MiB line as one row and delivers the rest', async () => {
    const { tenantId } = tenantWithSample();
    const file = join(ROOT, tenantId, 'long.jsonl');
    writeFileSync(
      file,
      `{"EMail":"a@example.com"}\n{"EMail":"x@example.com","Pad":"${'p'.repeat(5 * 1024 ** 2)}"}\n{"EMail":"c@example.com"}\n`,
    );
    const run = runSpec(file, tenantId, { format: 'jsonl', entity: undefined });
    await requestRun(run, `it-${randomUUID()}`);
    const mapped = await expectEventually(
      () => {
        const messages = ofRun(TOPICS.contactsMapped.name, run.runId, (v) => ContactsMappedV1.parse(v));
        return messages.some((m) => m.value.kind === 'end') && messages;
      },
      { timeoutMs: 30000, message: 'contacts-mapped end' },
    );
    const emails = mapped.flatMap((m) => (m.value.kind === 'batch' ? m.value.contacts.map((c) => c.email) : []));
    expect([...new Set(emails)]).toEqual(['a@example.com', 'c@example.com']);
    const rejections = await expectEventually(
      () =>
        ofRun(TOPICS.runEvents.name, run.runId, (v) => RunEventV1.parse(v))
          .flatMap((m) => (m.value.type === 'rows-rejected' && m.value.stage === 'extraction' ? m.value.rejections : []))
          .find((r) => r.line === 2),
      { message: 'extraction rejection' },
    );
    expect(rejections.reason).toBe('line over 1048576 bytes');
  });

  it('stops extracting and mapping a run within seconds of its cancel order, and publishes no end', async () => {
    const tenantId = `it-${randomUUID().slice(0, 8)}`;
    mkdirSync(join(ROOT, tenantId), { recursive: true });
    const file = join(ROOT, tenantId, 'big.csv');
    const ROWS = 400_000;
    const lines = ['CustomerId,EMail,FirstName'];
    for (let i = 0; i < ROWS; i++) lines.push(`C-${i},member-${i}@example.com,Member ${i}`);
    writeFileSync(file, lines.join('\n') + '\n');
    const run = runSpec(file, tenantId, { format: 'csv', entity: undefined });
    await requestRun(run, `it-${randomUUID()}`);
    // Some batches are out: the run is being read and mapped.
    await expectEventually(() => ofRun(TOPICS.contactsMapped.name, run.runId, (v) => v).length >= 2, {
      timeoutMs: 45000,
      message: 'first batches mapped',
    });
    const cancel = { type: 'cancel', runId: run.runId, tenantId, at: new Date().toISOString() };
    await produceRaw(TOPICS.runControl.name, [{ key: run.runId, value: JSON.stringify(cancel) }]);
    const canceledAt = Date.now();
    // Quiet for 3 s in a row = stopped; it must stop within seconds of the order.
    let last = -1;
    let quietSince = Date.now();
    await expectEventually(
      () => {
        const count = ofRun(TOPICS.profilesExtracted.name, run.runId, (v) => v).length;
        if (count !== last) [last, quietSince] = [count, Date.now()];
        return Date.now() - quietSince >= 3000;
      },
      { timeoutMs: 30000, intervalMs: 200, message: 'extraction stopped' },
    );
    expect(quietSince - canceledAt).toBeLessThan(10_000);
    const extracted = ofRun(TOPICS.profilesExtracted.name, run.runId, (v) => ProfilesExtractedV1.parse(v));
    expect(extracted.some((m) => m.value.kind === 'end')).toBe(false);
    const rows = extracted.reduce((n, m) => n + (m.value.kind === 'batch' ? m.value.rows.length : 0), 0);
    expect(rows).toBeLessThan(ROWS);
    // Mapping drops what still arrives for the canceled run, and keeps mapping other runs.
    const other = runSpec(file, tenantId, { format: 'csv', entity: undefined });
    const batchOf = (spec: RunSpec) => ({
      kind: 'batch',
      run: spec,
      batchSeq: 9999,
      segmentId: spec.segments[0].segmentId,
      rows: [{ seq: 0, partition: 'big.csv', line: 2, values: { CustomerId: 'C-x', EMail: 'late@example.com', FirstName: 'L' } }],
    });
    await produceRaw(TOPICS.profilesExtracted.name, [
      { key: run.runId, value: JSON.stringify(batchOf(run)) },
      { key: other.runId, value: JSON.stringify(batchOf(other)) },
    ]);
    await expectEventually(() => ofRun(TOPICS.contactsMapped.name, other.runId, (v) => v).length === 1, {
      message: 'the other run mapped',
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const mapped = ofRun(TOPICS.contactsMapped.name, run.runId, (v) => ContactsMappedV1.parse(v));
    expect(mapped.some((m) => m.value.kind === 'end')).toBe(false);
    expect(mapped.some((m) => m.value.kind === 'batch' && m.value.batchSeq === 9999)).toBe(false);
  });

  it('rejects a deeply nested JSONL line and rows with a NUL in a mapped value, each with its reason, and maps the rest', async () => {
    const { tenantId } = tenantWithSample();
    const file = join(ROOT, tenantId, 'poison.jsonl');
    // Line 2: 10 KB of nesting (JSON.stringify overflowed the stack: the whole run failed as unreadable).
    // Line 3: a NUL in FirstName (PostgreSQL cannot store it). Line 4: a NUL in an unmapped column (ignored).
    writeFileSync(
      file,
      [
        '{"EMail":"a@example.com","FirstName":"A"}',
        `{"EMail":"b@example.com","Deep":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        '{"EMail":"c@example.com","FirstName":"C\\u0000"}',
        '{"EMail":"d@example.com","FirstName":"D","Blob":"\\u0000"}',
      ].join('\n') + '\n',
    );
    const run = runSpec(file, tenantId, { format: 'jsonl', entity: undefined });
    await requestRun(run, `it-${randomUUID()}`);
    // The broker is shared: services of other checkouts (other groups, older code) may answer this run too.
    // Only what parses with today's contracts counts, and only the outcomes this test is about are asserted.
    const valid = <T>(topic: string, schema: { safeParse(v: unknown): { success: boolean; data?: T } }) =>
      ofRun(topic, run.runId, (v) => schema.safeParse(v))
        .filter((m) => m.value.success)
        .map((m) => m.value.data as T);
    const mapped = await expectEventually(
      () => {
        const messages = valid<ContactsMappedV1>(TOPICS.contactsMapped.name, ContactsMappedV1);
        const emails = messages.flatMap((m) => (m.kind === 'batch' ? m.contacts.map((c) => c.email) : []));
        return messages.some((m) => m.kind === 'end') && emails.includes('d@example.com') && emails;
      },
      { timeoutMs: 30000, message: 'contacts-mapped end' },
    );
    expect([...new Set(mapped)].sort()).toEqual(['a@example.com', 'd@example.com']);
    const reasons = await expectEventually(
      () => {
        const found = valid<RunEventV1>(TOPICS.runEvents.name, RunEventV1).flatMap((e) =>
          e.type === 'rows-rejected' ? e.rejections.map((r) => `${e.stage} line ${r.line}: ${r.reason}`) : [],
        );
        return found.length >= 2 && found;
      },
      { message: 'both rejections' },
    );
    expect(reasons).toEqual(
      expect.arrayContaining([
        'extraction line 2: value of "Deep" nested deeper than 64 levels',
        'mapping line 3: invalid value (attribute FirstName): holds a NUL character',
      ]),
    );
    // Before: the nesting overflowed JSON.stringify and the whole run failed as an unreadable file.
    const failures = valid<RunEventV1>(TOPICS.runEvents.name, RunEventV1).flatMap((e) => (e.type === 'run-failed' ? [e.code] : []));
    expect(failures.filter((code) => code === 'SNAPSHOT_UNREADABLE' || code === 'RANGE_ERROR')).toEqual([]);
  });
});
