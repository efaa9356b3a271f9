import { AppError } from '@export/errors';
import { z } from 'zod';
import { fieldPath, findNul, parseInput } from './parse-input';

describe('parseInput', () => {
  const schema = z.object({ mapping: z.object({ custom: z.array(z.object({ field: z.string().min(2) })) }) });

  it('names the field at fault with array indexes', () => {
    try {
      parseInput(schema, { mapping: { custom: [{ field: 'ok' }, { field: 'x' }] } });
      throw new Error('expected a validation error');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).kind).toBe('validation');
      expect((error as AppError).details.field).toBe('mapping.custom[1].field');
      expect((error as AppError).message).toMatch(/^mapping\.custom\[1\]\.field: /);
    }
  });

  it('returns the parsed value', () => {
    expect(parseInput(schema, { mapping: { custom: [] } })).toEqual({ mapping: { custom: [] } });
  });

  it('formats paths', () => {
    expect(fieldPath(['segmentIds', 2])).toBe('segmentIds[2]');
    expect(fieldPath([])).toBe('');
  });

  it('refuses NUL characters anywhere in the parsed input (PostgreSQL text cannot hold them), naming the field', () => {
    const body = z.object({
      name: z.string(),
      mapping: z.object({ custom: z.array(z.object({ field: z.string() })) }),
      listNames: z.record(z.string(), z.string()),
    });
    const valid = { name: 'ok', mapping: { custom: [{ field: 'a' }] }, listNames: { s: 'x' } };
    const refusal = (input: unknown) => {
      try {
        parseInput(body, input);
        return undefined;
      } catch (error) {
        return {
          kind: (error as AppError).kind,
          field: (error as AppError).details.field,
          message: (error as AppError).message,
        };
      }
    };
    expect(refusal(valid)).toBeUndefined();
    expect(refusal({ ...valid, name: 'a\u0000b' })).toEqual({
      kind: 'validation',
      field: 'name',
      message: 'name: must not contain NUL characters',
    });
    expect(refusal({ ...valid, mapping: { custom: [{ field: 'a' }, { field: '\u0000' }] } })?.field).toBe(
      'mapping.custom[1].field',
    );
    expect(refusal({ ...valid, listNames: { s: 'x\u0000' } })?.field).toBe('listNames.s');
    expect(refusal({ ...valid, listNames: { 's\u0000': 'x' } })).toEqual({
      kind: 'validation',
      field: 'listNames',
      message: 'listNames: keys must not contain NUL characters',
    });
    // Fields the schema drops never reach the database, so they are not looked at.
    expect(refusal({ ...valid, ignored: '\u0000' })).toBeUndefined();
  });

  it('finds NUL characters in strings, keys and nested arrays', () => {
    expect(findNul('a\u0000')).toEqual({ path: [], inKey: false });
    expect(findNul({ a: [1, 'x', { b: '\u0000' }] })).toEqual({ path: ['a', 2, 'b'], inKey: false });
    expect(findNul({ a: { '\u0000': 1 } })).toEqual({ path: ['a'], inKey: true });
    expect(findNul({ a: ['x'], b: null, c: 3, d: true })).toBeUndefined();
  });
});
