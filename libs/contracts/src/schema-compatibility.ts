import { z } from 'zod';
import { MAX_EMAIL_LENGTH } from './common/contact';
import { STORABLE_TEXT_PATTERN, TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN, TEXT_LIMITS } from './common/primitives';
import type { TopicDefinition } from './topics';

/** A JSON Schema as z.toJSONSchema writes it (draft 2020-12), kept loose on purpose. */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * The published JSON Schema of a topic's value: what schemas/<topic>.schema.json holds. For the public
 * topic this is exactly segmentRefreshedJsonSchema().
 */
export function topicJsonSchema(topic: TopicDefinition): JsonSchema {
  return {
    $id: `https://schemas.segment-export.dev/${topic.name}.json`,
    title: topic.name,
    description: `Value of topic ${topic.name}; key ${topic.key}.`,
    ...z.toJSONSchema(topic.schema, { io: 'input', unrepresentable: 'any' }),
  };
}

/**
 * Tightenings made in place on purpose, each with its reason. A tightened bound is breaking by the rules
 * below (a message valid before may be refused now); one listed here is reported as `compatible` instead,
 * with its reason, where the path matches and the new value is exactly the one recorded. Keep this list
 * short: every entry is a promise that refusing the old messages is the point of the change.
 */
export interface AllowedTightening {
  /** Matches the JSON path of the field (e.g. every `tenantId`, at any depth, in any topic). */
  path: RegExp;
  /** The keywords tightened and their new values. */
  values: Record<string, string | number>;
  reason: string;
}

export const ALLOWED_TIGHTENINGS: readonly AllowedTightening[] = [
  {
    // Issue 10 (trust boundaries): a tenant's snapshots live under <SNAPSHOT_ROOT>/<tenantId>/, so a
    // tenant id that is not a plain name (a `/`, `..`, a control character, over 64 characters) could
    // address another tenant's folder. Such ids were never valid tenants; messages carrying one must be
    // refused (dead-lettered) rather than processed, in v1, on every topic: a v2 would leave v1 open.
    path: /(^|\.)tenantId$/,
    values: { maxLength: TENANT_ID_MAX_LENGTH, pattern: TENANT_ID_PATTERN.source },
    reason: 'tenant ids are plain names (issue 10: snapshots stay inside the tenant folder)',
  },
  // Issue 11 (poison never blocks a partition): PostgreSQL refuses U+0000 in text and jsonb (and jsonb an
  // unpaired surrogate), so a message with one in any string could never be stored; before this, it failed deep in a consumer (a
  // segment-refreshed event with a NUL in its segment name was retried forever). Refusing it at the edge
  // dead-letters it at once with the schema reason, in v1: a v2 would leave v1 open to the same poison.
  {
    path: /^\$/,
    values: { pattern: STORABLE_TEXT_PATTERN.source },
    reason: 'no NUL characters or unpaired surrogates (issue 11: PostgreSQL cannot store them)',
  },
  // Issue 11 as well: strings that had no cap get one, so one message cannot carry an unbounded value into
  // a batch, a row of the database or Autopilot. Each cap is above what any producer of ours writes (mapping
  // rejects a longer value as a row, extraction cuts partition names) and what real data holds.
  {
    path: /\.contact\.(FirstName|LastName|custom\{\}<string>)$/,
    values: { maxLength: TEXT_LIMITS.value },
    reason: 'profile values at most 64 Ki characters (issue 11: mapping rejects longer ones as rows)',
  },
  {
    path: /\.contacts\[\]\.(email|contact\.Email)$/,
    values: { maxLength: MAX_EMAIL_LENGTH },
    reason: 'e-mails at most 254 characters (mapping always rejected longer ones)',
  },
  {
    path: /\.(segmentName|snapshot\.entity)$/,
    values: { maxLength: TEXT_LIMITS.name },
    reason: 'segment names and entities at most 500 characters (the public event always capped segment names at 500)',
  },
  {
    path: /\.snapshot\.location$/,
    values: { maxLength: TEXT_LIMITS.location },
    reason: 'snapshot locations at most 4096 characters (PATH_MAX)',
  },
  {
    path: /(^\$<kind=batch>|\.contacts\[\]|\.rejections\[\])\.(segmentId|profileId)$/,
    values: { maxLength: TEXT_LIMITS.id },
    reason: 'segment and profile ids at most 200 characters (segment ids always were; mapping cut profile ids at 200)',
  },
  {
    path: /\.(rows|rejections)\[\]\.partition$/,
    values: { maxLength: TEXT_LIMITS.partition },
    reason: 'partition names at most 300 characters (issue 11: extraction cuts longer names)',
  },
  {
    path: /^\$<type=run-skipped>\.message$/,
    values: { maxLength: TEXT_LIMITS.message },
    reason: 'run messages at most 2000 characters (as run-failed messages always were)',
  },
  {
    path: /^\$<type=run-failed>\.code$/,
    values: { maxLength: TEXT_LIMITS.code },
    reason: 'failure codes at most 100 characters (codes are short words; unknown ones are still shown, not refused)',
  },
];

export interface SchemaChange {
  /** JSON path of the change (`$.run.segments[].listName`, `$<kind=batch>.contacts`). */
  path: string;
  /**
   * `breaking`: a message valid before is rejected now, or a field a consumer relies on is gone or changed
   * type: the topic needs a new version. `compatible`: a new optional field, a new enum value or union
   * variant, a looser bound: allowed in place (deploy consumers before the producers that use it).
   */
  severity: 'breaking' | 'compatible';
  message: string;
}

/**
 * Compares a topic's current schema with its published snapshot. Rules: every property of the snapshot
 * still exists with the same type; a required property stays required; no new required property (messages
 * already in the topic lack it); no enum value or union variant removed; no bound tightened. New optional
 * properties, enum values and variants, and looser bounds are compatible.
 */
export function compareSchemas(snapshot: JsonSchema, current: JsonSchema): SchemaChange[] {
  const changes: SchemaChange[] = [];
  compare(snapshot, current, '$', { snapshotRoot: snapshot, currentRoot: current, changes });
  return changes;
}

export function breakingChanges(snapshot: JsonSchema, current: JsonSchema): SchemaChange[] {
  return compareSchemas(snapshot, current).filter((c) => c.severity === 'breaking');
}

interface Context {
  snapshotRoot: JsonSchema;
  currentRoot: JsonSchema;
  changes: SchemaChange[];
}

function compare(rawOld: JsonSchema, rawNew: JsonSchema, path: string, ctx: Context): void {
  const before = resolve(rawOld, ctx.snapshotRoot);
  const after = resolve(rawNew, ctx.currentRoot);
  const breaking = (message: string) => ctx.changes.push({ path, severity: 'breaking', message });
  const compatible = (message: string) => ctx.changes.push({ path, severity: 'compatible', message });

  // A union of plain types may be written either way: `type: [a, b]` or `anyOf: [{type: a}, {type: b}]`
  // (zod writes the second as soon as one member carries a keyword). Compare them variant by variant.
  const variantsBefore = variants(before) ?? (variants(after) && typeListVariants(before));
  const variantsAfter = variants(after) ?? (variants(before) && typeListVariants(after));
  if (variantsBefore || variantsAfter) {
    compareVariants(variantsBefore ?? [before], variantsAfter ?? [after], path, ctx);
    return;
  }

  const typeBefore = typeOf(before);
  const typeAfter = typeOf(after);
  if (typeBefore !== typeAfter) {
    breaking(`type changed from ${typeBefore} to ${typeAfter}`);
    return;
  }

  compareValues(before, after, breaking, compatible);
  compareBounds(before, after, breaking, compatible, path);

  if (isObject(before.properties) || isObject(after.properties)) {
    const propsBefore = (before.properties ?? {}) as Record<string, JsonSchema>;
    const propsAfter = (after.properties ?? {}) as Record<string, JsonSchema>;
    const requiredBefore = new Set(asStrings(before.required));
    const requiredAfter = new Set(asStrings(after.required));
    for (const [name, schema] of Object.entries(propsBefore)) {
      const at = `${path}.${name}`;
      if (!(name in propsAfter)) {
        ctx.changes.push({ path: at, severity: 'breaking', message: 'field removed' });
        continue;
      }
      if (requiredBefore.has(name) && !requiredAfter.has(name))
        ctx.changes.push({ path: at, severity: 'breaking', message: 'required field became optional' });
      if (!requiredBefore.has(name) && requiredAfter.has(name))
        ctx.changes.push({ path: at, severity: 'breaking', message: 'optional field became required' });
      compare(schema, propsAfter[name] as JsonSchema, at, ctx);
    }
    for (const name of Object.keys(propsAfter)) {
      if (name in propsBefore) continue;
      const at = `${path}.${name}`;
      if (requiredAfter.has(name))
        ctx.changes.push({ path: at, severity: 'breaking', message: 'new required field (messages already written lack it)' });
      else ctx.changes.push({ path: at, severity: 'compatible', message: 'new optional field' });
    }
  }
  if (isObject(before.additionalProperties) && isObject(after.additionalProperties)) {
    compare(before.additionalProperties, after.additionalProperties, `${path}{}`, ctx);
  } else if (before.additionalProperties !== after.additionalProperties) {
    if (after.additionalProperties === false) breaking('additional properties are no longer allowed');
    else compatible('additional properties changed');
  }
  if (isObject(before.items) && isObject(after.items)) compare(before.items, after.items, `${path}[]`, ctx);
}

/** Union variants matched by their discriminator value (a `const` property) or else by their type. */
function compareVariants(before: JsonSchema[], after: JsonSchema[], path: string, ctx: Context): void {
  const keyed = (list: JsonSchema[], root: JsonSchema) =>
    new Map(list.map((v) => [variantKey(resolve(v, root)), v] as const));
  const mapBefore = keyed(before, ctx.snapshotRoot);
  const mapAfter = keyed(after, ctx.currentRoot);
  for (const [key, variant] of mapBefore) {
    const match = mapAfter.get(key);
    if (!match) ctx.changes.push({ path, severity: 'breaking', message: `union variant ${key} removed` });
    else compare(variant, match, mapBefore.size > 1 ? `${path}<${key}>` : path, ctx);
  }
  for (const key of mapAfter.keys())
    if (!mapBefore.has(key)) ctx.changes.push({ path, severity: 'compatible', message: `new union variant ${key}` });
}

function variantKey(schema: JsonSchema): string {
  if (isObject(schema.properties)) {
    for (const [name, prop] of Object.entries(schema.properties as Record<string, JsonSchema>))
      if (isObject(prop) && 'const' in prop) return `${name}=${String(prop.const)}`;
  }
  if ('const' in schema) return `const=${JSON.stringify(schema.const)}`;
  return typeOf(schema);
}

function compareValues(
  before: JsonSchema,
  after: JsonSchema,
  breaking: (m: string) => void,
  compatible: (m: string) => void,
): void {
  const valuesBefore = allowedValues(before);
  const valuesAfter = allowedValues(after);
  if (!valuesBefore) {
    if (valuesAfter) breaking(`now restricted to ${valuesAfter.join(', ')}`);
    return;
  }
  if (!valuesAfter) return compatible('no longer restricted to a list of values');
  const removed = valuesBefore.filter((v) => !valuesAfter.includes(v));
  const added = valuesAfter.filter((v) => !valuesBefore.includes(v));
  if (removed.length) breaking(`values removed: ${removed.join(', ')}`);
  if (added.length) compatible(`values added: ${added.join(', ')}`);
}

const LOWER_BOUNDS = ['minLength', 'minimum', 'exclusiveMinimum', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maxLength', 'maximum', 'exclusiveMaximum', 'maxItems', 'maxProperties'] as const;

function compareBounds(
  before: JsonSchema,
  after: JsonSchema,
  breaking: (m: string) => void,
  compatible: (m: string) => void,
  path: string,
): void {
  const tightened = (keyword: string, message: string) => {
    const allowed = ALLOWED_TIGHTENINGS.find((a) => a.path.test(path) && a.values[keyword] === after[keyword]);
    if (allowed) compatible(`${message} (allowed: ${allowed.reason})`);
    else breaking(message);
  };
  const check = (keyword: string, tighter: (b: number, a: number) => boolean) => {
    const b = before[keyword] as number | undefined;
    const a = after[keyword] as number | undefined;
    if (a === b) return;
    if (a !== undefined && (b === undefined || tighter(b, a))) tightened(keyword, `${keyword} tightened from ${b ?? 'none'} to ${a}`);
    else compatible(`${keyword} loosened from ${b} to ${a ?? 'none'}`);
  };
  for (const keyword of LOWER_BOUNDS) check(keyword, (b, a) => a > b);
  for (const keyword of UPPER_BOUNDS) check(keyword, (b, a) => a < b);
  for (const keyword of ['pattern', 'format'] as const) {
    if (before[keyword] === after[keyword]) continue;
    if (after[keyword] === undefined) compatible(`${keyword} dropped`);
    else tightened(keyword, `${keyword} changed from ${String(before[keyword] ?? 'none')} to ${String(after[keyword])}`);
  }
}

function variants(schema: JsonSchema): JsonSchema[] | undefined {
  const list = schema.oneOf ?? schema.anyOf;
  return Array.isArray(list) ? (list as JsonSchema[]) : undefined;
}

/** `{type: [a, b], ...rest}` as the variants `{type: a, ...rest}`, `{type: b, ...rest}`; else undefined. */
function typeListVariants(schema: JsonSchema): JsonSchema[] | undefined {
  if (!Array.isArray(schema.type)) return undefined;
  const { type, ...rest } = schema;
  return (type as string[]).map((t) => ({ ...rest, type: t }));
}

function allowedValues(schema: JsonSchema): string[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v));
  if ('const' in schema) return [JSON.stringify(schema.const)];
  return undefined;
}

/** The JSON type of a schema, inferred from `const`/`enum` when `type` is absent; `any` for `{}`. */
function typeOf(schema: JsonSchema): string {
  if (Array.isArray(schema.type)) return [...(schema.type as string[])].sort().join('|');
  if (typeof schema.type === 'string') return schema.type;
  const values = Array.isArray(schema.enum) ? schema.enum : 'const' in schema ? [schema.const] : undefined;
  if (values) {
    const types = new Set(values.map((v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)));
    return [...types].sort().join('|');
  }
  return 'any';
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
  let target: unknown = root;
  for (const part of ref.slice(2).split('/')) target = (target as JsonSchema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (!isObject(target)) throw new Error(`unresolvable $ref ${ref}`);
  return resolve(target, root);
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
