import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  ALL_TOPICS,
  ContactsMappedV1,
  RunEventV1,
  SegmentRefreshedV1,
  segmentRefreshedJsonSchema,
  STORABLE_TEXT_MESSAGE,
  TenantId,
  TOPICS,
  topicsFileContent,
  type RunSpec,
} from './index';

const example = {
  eventId: '5f0c2d7e-7d1c-4a59-9d3b-8f7f0f0c1a11',
  occurredAt: '2026-11-28T08:00:00Z',
  tenantId: 'contoso',
  segment: { id: 'seg-vip', name: 'VIP customers', memberCount: 48211 },
  snapshot: { format: 'cdm-folder', location: 'file:///data/ci/2026-11-28/model.json', entity: 'VipCustomers' },
};

describe('segment-refreshed.v1 (public event)', () => {
  it('accepts the example from PRODUCT.md', () => {
    expect(SegmentRefreshedV1.parse(example)).toEqual(example);
  });

  it('ignores unknown keys', () => {
    expect(SegmentRefreshedV1.parse({ ...example, extra: 1 })).toEqual(example);
  });

  it.each([
    ['unknown format', { ...example, snapshot: { ...example.snapshot, format: 'parquet' } }, 'snapshot.format'],
    ['cdm-folder without entity', { ...example, snapshot: { format: 'cdm-folder', location: 'x' } }, 'snapshot.entity'],
    ['negative member count', { ...example, segment: { ...example.segment, memberCount: -1 } }, 'segment.memberCount'],
    ['bad timestamp', { ...example, occurredAt: 'yesterday' }, 'occurredAt'],
    ['missing tenant', { ...example, tenantId: undefined }, 'tenantId'],
  ])('rejects %s and names the field', (_name, input, path) => {
    const result = SegmentRefreshedV1.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it.each([
    ['..'],
    ['.'],
    ['../other-tenant'],
    ['acme/../other'],
    ['a\\b'],
    ['a/b'],
    ['a\u0000b'],
    ['a\nb'],
    ['a\u007fb'],
    ['.hidden'],
    [' acme'],
    ['acme '],
    [''],
    ['x'.repeat(65)],
  ])('refuses the tenant id %j (not a plain name) on the public topic and in the run spec', (tenantId) => {
    expect(SegmentRefreshedV1.safeParse({ ...example, tenantId }).error?.issues[0].path).toEqual(['tenantId']);
    expect(TenantId.safeParse(tenantId).success).toBe(false);
  });

  it.each([['contoso'], ['Contoso Ltd'], ['e2e-1a2b'], ['münchen'], ['x'.repeat(64)]])('accepts the tenant id %j', (tenantId) => {
    expect(TenantId.parse(tenantId)).toBe(tenantId);
  });

  it.each([
    ['segment name', { ...example, segment: { ...example.segment, name: 'VIP\u0000customers' } }, 'segment.name'],
    ['segment id', { ...example, segment: { ...example.segment, id: 'seg\u0000vip' } }, 'segment.id'],
    ['event id', { ...example, eventId: 'e\u0000' }, 'eventId'],
    ['location', { ...example, snapshot: { ...example.snapshot, location: '/data/a\u0000.json' } }, 'snapshot.location'],
    ['entity', { ...example, snapshot: { ...example.snapshot, entity: 'Vip\u0000' } }, 'snapshot.entity'],
  ])('refuses a NUL character in the %s, naming the field', (_name, input, path) => {
    const issues = SegmentRefreshedV1.safeParse(input).error?.issues ?? [];
    expect(issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([`${path}: ${STORABLE_TEXT_MESSAGE}`]);
  });

  it('refuses an unpaired surrogate (PostgreSQL jsonb refuses it) and accepts paired ones', () => {
    const named = (name: string) => ({ ...example, segment: { ...example.segment, name } });
    expect(SegmentRefreshedV1.safeParse(named('VIP \ud83d')).error?.issues.map((i) => i.path.join('.'))).toEqual(['segment.name']);
    expect(SegmentRefreshedV1.safeParse(named('VIP \ude00 x')).success).toBe(false);
    expect(SegmentRefreshedV1.parse(named('VIP \ud83d\ude00')).segment.name).toBe('VIP 😀');
  });

  it('refuses over-long strings (a segment name over 500, a location over 4096 characters)', () => {
    const longName = { ...example, segment: { ...example.segment, name: 'x'.repeat(501) } };
    expect(SegmentRefreshedV1.safeParse(longName).error?.issues.map((i) => i.path.join('.'))).toEqual(['segment.name']);
    const longLocation = { ...example, snapshot: { ...example.snapshot, location: `/${'x'.repeat(4096)}` } };
    expect(SegmentRefreshedV1.safeParse(longLocation).error?.issues.map((i) => i.path.join('.'))).toEqual(['snapshot.location']);
  });

  it('keeps the committed JSON Schema in sync with the zod schema', () => {
    const committed = JSON.parse(
      readFileSync(join(__dirname, '../schemas/customer-insights.segment-refreshed.v1.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(segmentRefreshedJsonSchema());
  });
});

const run: RunSpec = {
  runId: randomUUID(),
  tenantId: 'contoso',
  exportId: 'exp-1',
  connectionId: 'conn-1',
  trigger: 'on-demand',
  segments: [{ segmentId: 'seg-vip', segmentName: 'VIP', listName: 'VIP', snapshot: { format: 'csv', location: '/data/contoso/vip.csv' } }],
  mapping: { email: 'EMail' },
  limitPolicy: 'skip',
  profileLimit: 100,
  quotaPerMonth: null,
};
const contact = { seq: 0, email: 'a@b.io', segmentId: 'seg-vip', contact: { Email: 'a@b.io' } };

describe('contacts-mapped.v1', () => {
  it('reads a batch without part/parts (as written before parts existed) and a part of a split batch', () => {
    const whole = { kind: 'batch', run, batchSeq: 3, contacts: [contact], rejected: 1 };
    expect(ContactsMappedV1.parse(whole)).toEqual(whole);
    const part = { ...whole, part: 2, parts: 3, rejected: 0 };
    expect(ContactsMappedV1.parse(part)).toEqual(part);
  });

  it.each([
    [{ part: 3, parts: 3 }],
    [{ part: 1 }],
    [{ part: 0, parts: 0 }],
  ])('refuses a part outside its batch: %j', (fields) => {
    const result = ContactsMappedV1.safeParse({ kind: 'batch', run, batchSeq: 0, contacts: [], rejected: 0, ...fields });
    expect(result.success).toBe(false);
  });

  it.each([
    ['FirstName', { ...contact, contact: { Email: 'a@b.io', FirstName: 'A\u0000' } }],
    ['a custom string', { ...contact, contact: { Email: 'a@b.io', custom: { 'string--Tier': 'G\u0000' } } }],
    ['LastName over 64 Ki characters', { ...contact, contact: { Email: 'a@b.io', LastName: 'x'.repeat(65_537) } }],
  ])('refuses a contact with a NUL or an over-long value in %s', (_name, bad) => {
    expect(ContactsMappedV1.safeParse({ kind: 'batch', run, batchSeq: 0, contacts: [bad], rejected: 0 }).success).toBe(false);
  });
});

describe('run-events.v1', () => {
  const base = { runId: run.runId, tenantId: 'contoso', at: '2026-11-28T08:00:00Z' };
  it('refuses a NUL in a rejection (reason, partition, profile id) and in a failure message', () => {
    const rejection = { segmentId: 'seg-vip', partition: 'p1.csv', line: 2, reason: 'invalid e-mail' };
    const rejected = (r: object) => ({ ...base, type: 'rows-rejected', stage: 'mapping', rejections: [{ ...rejection, ...r }] });
    expect(RunEventV1.safeParse(rejected({})).success).toBe(true);
    for (const field of ['reason', 'partition', 'profileId'])
      expect(RunEventV1.safeParse(rejected({ [field]: 'x\u0000' })).success).toBe(false);
    const failed = { ...base, type: 'run-failed', stage: 'mapping', code: 'SOME_NEW_CODE', message: 'boom' };
    expect(RunEventV1.safeParse(failed).success).toBe(true);
    expect(RunEventV1.safeParse({ ...failed, message: 'bo\u0000om' }).success).toBe(false);
  });

  it('reads delivery events before and after incremental sync (counts, phase, progress, dry run, notice)', () => {
    const counts = { duplicates: 0, eligible: 10, delivered: 3, failed: 0, overLimit: 0, overQuota: 0 };
    const before = { ...base, type: 'delivery-progress', counts };
    expect(RunEventV1.parse(before)).toEqual(before);
    const after = {
      ...before,
      counts: { ...counts, added: 1, updated: 2, unchanged: 7, removed: 4 },
      phase: 'removing',
      progress: { done: 4, total: 9 },
    };
    expect(RunEventV1.parse(after)).toEqual(after);
    expect(RunEventV1.safeParse({ ...after, phase: 'dancing' }).success).toBe(false);
    const completed = {
      ...base,
      type: 'delivery-completed',
      counts: after.counts,
      dryRun: true,
      notice: { code: 'MASS_REMOVAL_HELD', message: '30 removals held' },
    };
    expect(RunEventV1.parse(completed)).toEqual(completed);
  });
});

describe('run spec', () => {
  it('reads a spec without the incremental-sync fields (upsert, as before) and one with them', () => {
    const parsed = ContactsMappedV1.parse({ kind: 'end', run, batches: 1, extracted: 1 });
    expect(parsed.run).not.toHaveProperty('syncMode');
    const mirror = { ...run, syncMode: 'mirror', massRemovalPercent: 20, dryRun: true, fullResync: false, confirmRemovals: true };
    expect(ContactsMappedV1.parse({ kind: 'end', run: mirror, batches: 1, extracted: 1 }).run).toEqual(mirror);
    expect(ContactsMappedV1.safeParse({ kind: 'end', run: { ...run, syncMode: 'replace' }, batches: 1, extracted: 1 }).success).toBe(false);
    expect(ContactsMappedV1.safeParse({ kind: 'end', run: { ...run, massRemovalPercent: 101 }, batches: 1, extracted: 1 }).success).toBe(false);
  });
});

describe('topic registry', () => {
  it('gives every topic a unique versioned name', () => {
    const names = ALL_TOPICS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/\.v\d+$/);
  });

  it('keeps the public topic name stable', () => {
    expect(TOPICS.segmentRefreshed.name).toBe('customer-insights.segment-refreshed.v1');
  });
});

describe('tools/kafka/topics.txt', () => {
  it('lists exactly the registered topics', () => {
    const file = readFileSync(join(__dirname, '../../../tools/kafka/topics.txt'), 'utf8');
    expect(file).toBe(topicsFileContent());
  });

  it('creates the dead-letter topic (personal data) with a retention of 7 days', () => {
    const line = topicsFileContent()
      .split('\n')
      .find((l) => l.startsWith(`${TOPICS.deadLetter.name} `));
    expect(line).toBe(`${TOPICS.deadLetter.name} 1 1 retention.ms=${7 * 24 * 60 * 60 * 1000}`);
  });
});
