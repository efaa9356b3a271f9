import { LaneProgress, type LaneCounts } from './lane-progress';

const read = (over: Partial<LaneCounts> = {}): LaneCounts => ({
  duplicates: 0,
  eligible: 1000,
  delivered: 100,
  failed: 0,
  overLimit: 0,
  overQuota: 0,
  added: 80,
  updated: 20,
  unchanged: 0,
  removed: 0,
  pending: 900,
  ...over,
});

describe('LaneProgress', () => {
  it('reads the ledger first, then moves the read counts by what the lane sent and failed', async () => {
    const progress = new LaneProgress(10_000);
    const ledger = jest.fn(async () => read());
    expect(await progress.counts(ledger, 0)).toMatchObject({ delivered: 100, pending: 900 });
    progress.sent(100, 30);
    progress.failed(2);
    expect(await progress.counts(ledger, 1000)).toMatchObject({
      delivered: 200,
      added: 150,
      updated: 50,
      failed: 2,
      pending: 798,
    });
    expect(ledger).toHaveBeenCalledTimes(1);
  });

  it('reads again when due or when told something only the ledger knows changed', async () => {
    const progress = new LaneProgress(10_000);
    const ledger = jest.fn(async () => read());
    await progress.counts(ledger, 0);
    await progress.counts(ledger, 10_000);
    expect(ledger).toHaveBeenCalledTimes(2);
    progress.invalidate();
    await progress.counts(ledger, 10_001);
    expect(ledger).toHaveBeenCalledTimes(3);
  });

  it('keeps writes that end while the ledger is read on top of that read until the next one', async () => {
    const progress = new LaneProgress(10_000);
    const counts = await progress.counts(async () => {
      progress.sent(100, 0);
      return read();
    }, 0);
    expect(counts.delivered).toBe(100);
    expect((await progress.counts(async () => read(), 1)).delivered).toBe(200);
  });
});
