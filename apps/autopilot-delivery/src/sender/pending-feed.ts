import type { PendingContact, RunsRepository } from '../runs/runs.repository';

const PAGE = 1000;
const BULK = 100;

/** Pending contacts in seq order, handed out in chunks of at most 100 to concurrent workers. */
export class PendingFeed {
  private buffer: PendingContact[] = [];
  private cursor = -1;
  private exhausted = false;
  private loading?: Promise<void>;

  constructor(
    private readonly repo: RunsRepository,
    private readonly runId: string,
  ) {}

  async next(signal: AbortSignal): Promise<PendingContact[]> {
    while (this.buffer.length === 0 && !this.exhausted) {
      signal.throwIfAborted();
      this.loading ??= this.load().finally(() => (this.loading = undefined));
      await this.loading;
    }
    signal.throwIfAborted();
    return this.buffer.splice(0, BULK);
  }

  private async load(): Promise<void> {
    const rows = await this.repo.pending(this.runId, this.cursor, PAGE);
    if (rows.length === 0) this.exhausted = true;
    else {
      this.cursor = rows[rows.length - 1].seq;
      this.buffer.push(...rows);
    }
  }
}
