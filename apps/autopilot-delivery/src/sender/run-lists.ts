import type { AutopilotClient } from '@export/autopilot-client';
import type { RunSegment } from '@export/contracts';
import type { PacedCall } from './autopilot-caller';
import type { ListsService } from './lists.service';

/**
 * The Autopilot list of each segment of one run. When Autopilot answers 404 (someone deleted a list), the
 * run looks its lists up again (or creates them) once; concurrent workers that hit the same 404 share that
 * one refresh, and a 404 after it is the run's failure, not a reason to look again.
 */
export class RunLists {
  private readonly ids = new Map<string, string>();
  private refresh?: Promise<boolean>;
  private refreshed = false;

  constructor(
    private readonly lists: ListsService,
    private readonly client: Pick<AutopilotClient, 'listLists' | 'createList'>,
    private readonly call: PacedCall,
    private readonly keyHash: string,
    private readonly segments: Pick<RunSegment, 'segmentId' | 'listName'>[],
  ) {}

  async resolve(): Promise<void> {
    for (const segment of this.segments) {
      this.ids.set(segment.segmentId, await this.lists.ensure(this.client, this.call, this.keyHash, segment.listName));
    }
  }

  /**
   * The list id of each segment as the ledger knows it, with no call to Autopilot (what a run's diff uses, so a
   * dry run and the next real run see the same lists); segments whose list was never resolved are left out.
   */
  async known(): Promise<Record<string, string>> {
    const known: Record<string, string> = {};
    for (const segment of this.segments) {
      const id = await this.lists.knownId(this.keyHash, segment.listName);
      if (id) known[segment.segmentId] = id;
    }
    return known;
  }

  /** The resolved list id of each segment (after `resolve`). */
  all(): Record<string, string> {
    return Object.fromEntries(this.ids);
  }

  idOf(segmentId: string): string | undefined {
    return this.ids.get(segmentId);
  }

  /** Resolves true when the lists were looked up again now (or by a refresh in progress), false after that. */
  refreshOnce(): Promise<boolean> {
    if (this.refreshed) return Promise.resolve(false);
    this.refresh ??= (async () => {
      try {
        for (const segment of this.segments) {
          const stale = this.ids.get(segment.segmentId);
          if (stale) await this.lists.forget(this.keyHash, segment.listName, stale);
        }
        await this.resolve();
        return true;
      } finally {
        this.refreshed = true;
      }
    })();
    return this.refresh;
  }
}
