import { TOPICS, type ContactsMappedV1, type ProfilesExtractedV1, type RunSpec } from '@export/contracts';
import { topicSchema } from './topic-schema';

const run: RunSpec = {
  runId: '3b241101-e2bb-4255-8caf-4136c566a962',
  tenantId: 'acme',
  exportId: 'export-1',
  connectionId: 'connection-1',
  trigger: 'on-demand',
  segments: [{ segmentId: 'seg-1', segmentName: 'Gold', listName: 'Gold', snapshot: { format: 'csv', location: 'seg.csv' } }],
  mapping: { email: 'EMail', firstName: 'FirstName', custom: [{ attribute: 'Tier', field: 'Loyalty Tier', type: 'string' }] },
  limitPolicy: 'skip',
  profileLimit: 100_000,
  quotaPerMonth: null,
};

const extracted: ProfilesExtractedV1 = {
  kind: 'batch',
  run: structuredClone(run),
  batchSeq: 0,
  segmentId: 'seg-1',
  rows: [
    { seq: 0, partition: 'seg.csv', line: 2, values: { EMail: 'a@x.io', FirstName: null, Tier: 'Gold' } },
    { seq: 1, partition: 'seg.csv', line: 3, values: {} },
  ],
};

const mapped: ContactsMappedV1 = {
  kind: 'batch',
  run: structuredClone(run),
  batchSeq: 0,
  part: 0,
  parts: 2,
  contacts: [{ seq: 0, email: 'a@x.io', segmentId: 'seg-1', contact: { Email: 'a@x.io', custom: { 'string--Loyalty--Tier': 'Gold' } } }],
  rejected: 1,
};

/** The compiled schema must answer exactly as the contract's schema: same data, same issues. */
function expectSameAnswer(topic: string, schema: { safeParse(value: unknown): unknown }, value: unknown, ok: boolean) {
  const compiled = topicSchema(topic)?.safeParse(value);
  expect(compiled?.success).toBe(ok);
  expect(JSON.parse(JSON.stringify(compiled))).toEqual(JSON.parse(JSON.stringify(schema.safeParse(value))));
}

describe('topicSchema', () => {
  it('is undefined for a topic no contract names', () => {
    expect(topicSchema('export.unknown.v1')).toBeUndefined();
  });

  it('is compiled once per topic', () => {
    expect(topicSchema(TOPICS.contactsMapped.name)).toBe(topicSchema(TOPICS.contactsMapped.name));
  });

  it.each<[string, unknown, boolean]>([
    ['a valid batch', extracted, true],
    ['a batch with an unknown key (stripped)', { ...extracted, extra: 1 }, true],
    ['a row with a NUL in its partition', { ...extracted, rows: [{ ...extracted.rows[0], partition: 'a\u0000b' }] }, false],
    ['a row without values', { ...extracted, rows: [{ seq: 0, partition: 'p', line: 1 }] }, false],
    ['a negative line', { ...extracted, rows: [{ ...extracted.rows[0], line: 0 }] }, false],
    ['an unknown kind', { ...extracted, kind: 'other' }, false],
  ])('answers as the contract for profiles-extracted: %s', (_, value, ok) => {
    expectSameAnswer(TOPICS.profilesExtracted.name, TOPICS.profilesExtracted.schema, value, ok);
  });

  it.each<[string, unknown, boolean]>([
    ['a valid part', mapped, true],
    ['a part numbered past its parts (the refinement)', { ...mapped, part: 2 }, false],
    ['an e-mail with a lone surrogate', { ...mapped, contacts: [{ ...mapped.contacts[0], email: 'a\ud800@x.io' }] }, false],
    ['a custom key without a type', { ...mapped, contacts: [{ ...mapped.contacts[0], contact: { Email: 'a@x.io', custom: { Tier: 'Gold' } } }] }, false],
  ])('answers as the contract for contacts-mapped: %s', (_, value, ok) => {
    expectSameAnswer(TOPICS.contactsMapped.name, TOPICS.contactsMapped.schema, value, ok);
  });
});
