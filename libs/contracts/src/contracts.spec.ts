import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TOPICS, SegmentRefreshedV1, segmentRefreshedJsonSchema, TenantId, TOPICS, topicsFileContent } from './index';

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

  it('keeps the committed JSON Schema in sync with the zod schema', () => {
    const committed = JSON.parse(
      readFileSync(join(__dirname, '../schemas/customer-insights.segment-refreshed.v1.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(segmentRefreshedJsonSchema());
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
