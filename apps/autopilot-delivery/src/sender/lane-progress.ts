import type { DeliveryCounts } from '@export/contracts';

export type LaneCounts = DeliveryCounts & { pending: number };

/**
 * A lane's counts between two reads of the ledger: the last read plus what the lane itself sent and failed
 * since. Counting a run's contacts reads all of them (100,000 rows for a big run), so the lane reads them only
 * every `refreshMs`, or when something it cannot count (a decision, an early classification, a phase) changed;
 * in between, progress events carry the read counts moved by the lane's own writes. Final counts always come from
 * the ledger (finish).
 */
export class LaneProgress {
  private read?: { counts: LaneCounts; at: number };
  private since = { added: 0, updated: 0, failed: 0 };
  private stale = true;

  constructor(private readonly refreshMs = 10_000) {}

  /** Something only the ledger knows changed: the next counts are read. */
  invalidate(): void {
    this.stale = true;
  }

  sent(sent: number, updated: number): void {
    this.since.added += sent - updated;
    this.since.updated += updated;
  }

  failed(failed: number): void {
    this.since.failed += failed;
  }

  /** The counts now: read from the ledger with `readCounts` when due, else the last read moved by the lane's writes. */
  async counts(readCounts: () => Promise<LaneCounts>, now = Date.now()): Promise<LaneCounts> {
    if (this.stale || !this.read || now - this.read.at >= this.refreshMs) {
      // Writes that finish while the read runs may already be in it: they stay counted on top of it until the next
      // read (at most the calls in flight, never lost).
      this.stale = false;
      this.since = { added: 0, updated: 0, failed: 0 };
      const counts = await readCounts();
      this.read = { counts, at: now };
      return counts;
    }
    const { counts } = this.read;
    const { added, updated, failed } = this.since;
    return {
      ...counts,
      added: (counts.added ?? 0) + added,
      updated: (counts.updated ?? 0) + updated,
      delivered: counts.delivered + added + updated,
      failed: counts.failed + failed,
      pending: Math.max(0, counts.pending - added - updated - failed),
    };
  }
}
