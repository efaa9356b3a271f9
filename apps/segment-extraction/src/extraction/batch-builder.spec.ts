import { BatchBuilder } from './batch-builder';

const row = (seq: number, size = 10) => ({
  seq,
  partition: 'p',
  line: seq + 1,
  values: { v: 'x'.repeat(size) },
});

describe('BatchBuilder', () => {
  it('closes a batch at maxRows', () => {
    const builder = new BatchBuilder({ maxRows: 2, maxBytes: 1_000_000 });
    expect(builder.add(row(0))).toBeUndefined();
    expect(builder.add(row(1))).toBeUndefined();
    expect(builder.add(row(2))?.map((r) => r.seq)).toEqual([0, 1]);
    expect(builder.flush().map((r) => r.seq)).toEqual([2]);
    expect(builder.flush()).toEqual([]);
  });

  it('closes a batch before the bytes budget is exceeded, but never leaves a big row alone out', () => {
    const size = Buffer.byteLength(JSON.stringify(row(0, 100))) + 1;
    const builder = new BatchBuilder({ maxRows: 100, maxBytes: size * 2 });
    expect(builder.add(row(0, 100))).toBeUndefined();
    expect(builder.add(row(1, 100))).toBeUndefined();
    expect(builder.add(row(2, 100))?.map((r) => r.seq)).toEqual([0, 1]);
    expect(builder.add(row(3, 10_000))?.map((r) => r.seq)).toEqual([2]);
    expect(builder.flush().map((r) => r.seq)).toEqual([3]);
  });
});
