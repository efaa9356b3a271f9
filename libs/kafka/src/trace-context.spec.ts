import { childSpan, formatTraceparent, parseTraceparent, traceIdOf, uuidOfTraceId } from './trace-context';

describe('traceparent', () => {
  const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('parses and formats the W3C header', () => {
    const parsed = parseTraceparent(valid);
    expect(parsed).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: '01' });
    if (parsed) expect(formatTraceparent(parsed)).toBe(valid);
  });

  it.each([
    ['empty', ''],
    ['upper case', valid.toUpperCase()],
    ['zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['zero span id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['version ff', `ff${valid.slice(2)}`],
    ['extra field on version 00', `${valid}-extra`],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01'],
  ])('rejects %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('accepts a later version with more fields', () => {
    expect(parseTraceparent(`01${valid.slice(2)}-more`)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('makes child spans of the same trace', () => {
    const parent = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: '01' };
    const child = childSpan(parent);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.flags).toBe(parent.flags);
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(parent.spanId);
  });

  it('derives a stable trace id from a correlation id, and the UUID back from a trace id', () => {
    expect(traceIdOf('5F0C2D7E-7D1C-4A59-9D3B-8F7F0F0C1A11')).toBe('5f0c2d7e7d1c4a599d3b8f7f0f0c1a11');
    expect(traceIdOf('on-demand:abc')).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdOf('on-demand:abc')).toBe(traceIdOf('on-demand:abc'));
    expect(uuidOfTraceId('5f0c2d7e7d1c4a599d3b8f7f0f0c1a11')).toBe('5f0c2d7e-7d1c-4a59-9d3b-8f7f0f0c1a11');
  });
});
