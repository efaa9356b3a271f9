import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { segmentRefreshedJsonSchema } from './json-schema';
import { breakingChanges, compareSchemas, topicJsonSchema, type JsonSchema } from './schema-compatibility';
import { STORABLE_TEXT_PATTERN, safeText, TenantId } from './common/primitives';
import { ALL_TOPICS, TOPICS } from './topics';

const REFRESH = 'npx nx run contracts:schema-snapshots';
const snapshotFile = (topic: string) => join(__dirname, '..', 'schemas', `${topic}.schema.json`);

/**
 * The published schema of every topic is a snapshot in libs/contracts/schemas. A change that breaks
 * readers or writers of a topic fails here: publish it as a new topic version (`.v2`) instead. A compatible
 * change (a new optional field, a new enum value) fails only the freshness check, which names the command
 * that refreshes the snapshots.
 */
describe.each(ALL_TOPICS.map((t) => [t.name, t] as const))('published schema of %s', (name, topic) => {
  const current = topicJsonSchema(topic);

  it('has a committed snapshot', () => {
    expect(existsSync(snapshotFile(name))).toBe(true);
  });

  it('has no breaking change against its snapshot', () => {
    const snapshot = JSON.parse(readFileSync(snapshotFile(name), 'utf8')) as JsonSchema;
    const breaking = breakingChanges(snapshot, current).map((c) => `${c.path}: ${c.message}`);
    if (breaking.length)
      throw new Error(
        `${name} changed incompatibly:\n  ${breaking.join('\n  ')}\n` +
          `A breaking change is a new topic version (${name.replace(/\.v(\d+)$/, (_m, v) => `.v${Number(v) + 1}`)}), never an edit in place.`,
      );
  });

  it('has an up-to-date snapshot', () => {
    const snapshot = JSON.parse(readFileSync(snapshotFile(name), 'utf8')) as JsonSchema;
    const compatible = compareSchemas(snapshot, current).map((c) => `${c.path}: ${c.message}`);
    if (JSON.stringify(snapshot) !== JSON.stringify(current))
      throw new Error(
        `The snapshot of ${name} is stale (compatible changes: ${compatible.join('; ') || 'keywords only'}).\n` +
          `Refresh it with \`${REFRESH}\` and commit libs/contracts/schemas.`,
      );
  });
});

describe('schema snapshots', () => {
  it('write the public event exactly as its published JSON Schema', () => {
    expect(topicJsonSchema(TOPICS.segmentRefreshed)).toEqual(segmentRefreshedJsonSchema());
  });
});

describe('compareSchemas', () => {
  const base = z.object({
    id: z.string(),
    count: z.number().int().min(0),
    kind: z.enum(['a', 'b']),
    tags: z.array(z.object({ name: z.string(), weight: z.number().optional() })),
    note: z.string().optional(),
  });
  const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input' }) as JsonSchema;
  const breaking = (after: z.ZodType, before: z.ZodType = base) =>
    breakingChanges(schema(before), schema(after)).map((c) => `${c.path}: ${c.message}`);

  it('finds nothing between equal schemas', () => {
    expect(compareSchemas(schema(base), schema(base))).toEqual([]);
  });

  it('detects a removed field', () => {
    expect(breaking(base.omit({ count: true }))).toEqual(['$.count: field removed']);
  });

  it('detects a retyped field, also inside arrays', () => {
    expect(breaking(base.extend({ id: z.number() }))).toEqual(['$.id: type changed from string to number']);
    const retyped = base.extend({ tags: z.array(z.object({ name: z.string(), weight: z.string().optional() })) });
    expect(breaking(retyped)).toEqual(['$.tags[].weight: type changed from number to string']);
  });

  it('detects a required field that became optional, and a new required field', () => {
    expect(breaking(base.extend({ id: z.string().optional() }))).toEqual(['$.id: required field became optional']);
    expect(breaking(base.extend({ region: z.string() }))).toEqual([
      '$.region: new required field (messages already written lack it)',
    ]);
  });

  it('detects removed enum values, removed union variants and tightened bounds', () => {
    expect(breaking(base.extend({ kind: z.enum(['a']) }))).toEqual(['$.kind: values removed: "b"']);
    expect(breaking(base.extend({ count: z.number().int().min(1) }))).toEqual(['$.count: minimum tightened from 0 to 1']);
    const union = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('batch'), rows: z.array(z.string()) }),
      z.object({ kind: z.literal('end'), batches: z.number() }),
    ]);
    const onlyBatch = z.discriminatedUnion('kind', [z.object({ kind: z.literal('batch'), rows: z.array(z.string()) })]);
    expect(breaking(onlyBatch, union)).toEqual(['$: union variant kind=end removed']);
    const retypedEnd = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('batch'), rows: z.array(z.string()) }),
      z.object({ kind: z.literal('end'), batches: z.string() }),
    ]);
    expect(breaking(retypedEnd, union)).toEqual(['$<kind=end>.batches: type changed from number to string']);
  });

  it('allows new optional fields, new enum values and looser bounds, and reports them', () => {
    const widened = base.extend({ note2: z.string().optional(), kind: z.enum(['a', 'b', 'c']), count: z.number().int() });
    const changes = compareSchemas(schema(base), schema(widened));
    expect(changes.filter((c) => c.severity === 'breaking')).toEqual([]);
    expect(changes.map((c) => `${c.path}: ${c.message}`)).toEqual(
      expect.arrayContaining(['$.note2: new optional field', '$.kind: values added: "c"', '$.count: minimum loosened from 0 to -9007199254740991']),
    );
  });

  it('accepts the recorded tenant-id tightening (plain names, at most 64) and nothing beyond it', () => {
    const before = z.object({ tenantId: z.string().trim().min(1).max(200), run: z.object({ tenantId: z.string().trim().min(1).max(200) }) });
    const after = z.object({ tenantId: TenantId, run: z.object({ tenantId: TenantId }) });
    const changes = compareSchemas(schema(before), schema(after));
    expect(changes.filter((c) => c.severity === 'breaking')).toEqual([]);
    expect(changes.map((c) => c.path)).toEqual(['$.tenantId', '$.tenantId', '$.run.tenantId', '$.run.tenantId']);
    expect(changes.every((c) => c.message.includes('allowed: tenant ids are plain names'))).toBe(true);
    // Another bound on a tenant id, or the same bound elsewhere, is still breaking.
    expect(breaking(z.object({ tenantId: TenantId.max(32) }), after.pick({ tenantId: true }))).toEqual([
      '$.tenantId: maxLength tightened from 64 to 32',
    ]);
    expect(breaking(z.object({ segmentId: TenantId }), z.object({ segmentId: z.string().min(1).max(200) }))).toHaveLength(2);
  });

  it('accepts the recorded refusal of NUL and unpaired surrogates on any string, and the recorded caps only where they were recorded', () => {
    const before = z.object({ name: z.string(), contact: z.object({ FirstName: z.string().optional() }) });
    const after = z.object({
      name: z.string().regex(STORABLE_TEXT_PATTERN),
      contact: z.object({ FirstName: safeText(65_536).optional() }),
    });
    const changes = compareSchemas(schema(before), schema(after));
    expect(changes.filter((c) => c.severity === 'breaking')).toEqual([]);
    expect(changes.map((c) => `${c.path}: ${c.message.replace(/ \(allowed: .*/, '')}`)).toEqual([
      `$.name: pattern changed from none to ${STORABLE_TEXT_PATTERN.source}`,
      '$.contact.FirstName: maxLength tightened from none to 65536',
      `$.contact.FirstName: pattern changed from none to ${STORABLE_TEXT_PATTERN.source}`,
    ]);
    // Another pattern, or the value cap on a field it was not recorded for, is still breaking.
    expect(breaking(z.object({ name: z.string().regex(/^[a-z]*$/) }), z.object({ name: z.string() }))).toHaveLength(1);
    expect(breaking(z.object({ name: safeText(65_536) }), z.object({ name: z.string() }))).toEqual([
      '$.name: maxLength tightened from none to 65536',
    ]);
  });

  it('compares a union of plain types written as a type list with the same union written as variants', () => {
    const before = z.object({ v: z.union([z.string(), z.number(), z.boolean()]) });
    const after = z.object({ v: z.union([z.string().regex(STORABLE_TEXT_PATTERN), z.number(), z.boolean()]) });
    expect(schema(before).properties).toEqual({ v: { type: ['string', 'number', 'boolean'] } });
    expect(breakingChanges(schema(before), schema(after))).toEqual([]);
    const narrowed = z.object({ v: z.union([z.string().regex(STORABLE_TEXT_PATTERN), z.number()]) });
    expect(breaking(narrowed, before)).toEqual(['$.v: union variant boolean removed']);
  });

  it('finds a breaking change in a real topic schema', () => {
    const snapshot = topicJsonSchema(TOPICS.runControl);
    const edited = { ...TOPICS.runControl, schema: (TOPICS.runControl.schema as z.ZodObject).omit({ tenantId: true }) };
    expect(breakingChanges(snapshot, topicJsonSchema(edited)).map((c) => c.path)).toEqual(['$.tenantId']);
  });
});
