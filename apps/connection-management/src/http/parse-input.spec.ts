import { AppError } from '@export/errors';
import { z } from 'zod';
import { fieldPath, parseInput } from './parse-input';

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
});
