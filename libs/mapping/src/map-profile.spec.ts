import { AutopilotContact, FieldMapping } from '@export/contracts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { customFieldKey, mapProfile, MAX_VALUE_BYTES } from './index';

const Values = z.record(z.string(), z.string().nullable());
const ValidCase = z.strictObject({
  mapping: FieldMapping,
  values: Values,
  expected: z.strictObject({ email: z.string(), contact: AutopilotContact }),
});
const InvalidCase = z.strictObject({
  mapping: FieldMapping,
  values: Values,
  expectedReason: z.string().min(1),
});

function fixtures<T>(folder: string, schema: z.ZodType<T>): [string, T][] {
  const dir = join(__dirname, '../fixtures', folder);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [file, schema.parse(JSON.parse(readFileSync(join(dir, file), 'utf8')))]);
}

const valid = fixtures('valid', ValidCase);
const invalid = fixtures('invalid', InvalidCase);

describe('mapProfile (fixtures/valid)', () => {
  it('has fixtures to run', () => expect(valid.length).toBeGreaterThanOrEqual(5));

  it.each(valid)('%s', (_file, { mapping, values, expected }) => {
    const result = mapProfile(values, mapping);
    expect(result).toEqual({ ok: true, ...expected });
    if (result.ok) expect(AutopilotContact.parse(result.contact)).toEqual(result.contact);
  });
});

describe('mapProfile (fixtures/invalid)', () => {
  it('has fixtures to run', () => expect(invalid.length).toBeGreaterThanOrEqual(5));

  it.each(invalid)('%s', (_file, { mapping, values, expectedReason }) => {
    expect(mapProfile(values, mapping)).toEqual({ ok: false, reason: expectedReason });
  });
});

describe('mapProfile limits', () => {
  it('keeps a reason within the contract size, however long the value', () => {
    const custom = Array.from({ length: 20 }, (_, i) => ({
      attribute: `A${i}`,
      field: `F${i}`,
      type: 'integer' as const,
    }));
    const values = Object.fromEntries(custom.map((c) => [c.attribute, 'x'.repeat(1000)]));
    const result = mapProfile({ EMail: 'a@b.io', ...values }, { email: 'EMail', custom });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeLessThanOrEqual(500);
  });

  it('rejects a value over the cap (64 KiB of UTF-8) naming the attribute, never quoting it', () => {
    const mapping = { email: 'EMail', lastName: 'LastName', custom: [{ attribute: 'Bio', field: 'Bio', type: 'string' as const }] };
    const atCap = 'é'.repeat(MAX_VALUE_BYTES / 2);
    expect(mapProfile({ EMail: 'a@b.io', LastName: atCap }, mapping)).toMatchObject({ ok: true });
    const over = mapProfile({ EMail: 'a@b.io', LastName: `${atCap}x`, Bio: 'y'.repeat(MAX_VALUE_BYTES + 1) }, mapping);
    expect(over).toEqual({
      ok: false,
      reason: `invalid value (attribute LastName): over ${MAX_VALUE_BYTES} bytes; invalid value (attribute Bio): over ${MAX_VALUE_BYTES} bytes`,
    });
    // An e-mail over the cap shows no more than its short excerpt.
    const email = mapProfile({ EMail: `${'z'.repeat(MAX_VALUE_BYTES)}@b.io` }, { email: 'EMail' });
    expect(email.ok).toBe(false);
    if (!email.ok) expect(email.reason.length).toBeLessThan(120);
  });

  it('maps only contacts the contacts-mapped contract accepts (no NUL, no value over its cap)', () => {
    const mapping = {
      email: 'EMail',
      firstName: 'FirstName',
      custom: [{ attribute: 'Tier', field: 'Tier', type: 'string' as const }],
    };
    for (const bad of ['\u0000', 'a\u0000b', 'x'.repeat(MAX_VALUE_BYTES + 1)]) {
      for (const attribute of ['FirstName', 'Tier']) {
        const result = mapProfile({ EMail: 'a@b.io', FirstName: 'A', Tier: 'T', [attribute]: bad }, mapping);
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.reason).toContain(`(attribute ${attribute})`);
          expect(result.reason).not.toContain('\u0000');
        }
      }
    }
  });

  it('names the problem of an attribute once, however many custom fields it feeds', () => {
    const custom = Array.from({ length: 100 }, (_, i) => ({ attribute: 'Note', field: `Note ${i}`, type: 'string' as const }));
    expect(mapProfile({ EMail: 'a@b.io', Note: 'x\u0000' }, { email: 'EMail', custom })).toEqual({
      ok: false,
      reason: 'invalid value (attribute Note): holds a NUL character',
    });
  });

  it('does not read attributes from the object prototype', () => {
    expect(mapProfile({}, { email: 'constructor' })).toEqual({
      ok: false,
      reason: 'missing e-mail (attribute constructor)',
    });
  });
});

describe('customFieldKey', () => {
  it('replaces every space with --', () => {
    expect(customFieldKey('Loyalty Tier', 'string')).toBe('string--Loyalty--Tier');
    expect(customFieldKey('A  B', 'integer')).toBe('integer--A----B');
  });
});
