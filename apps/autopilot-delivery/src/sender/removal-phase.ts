import { isAutopilotFailure, type AutopilotClient } from '@export/autopilot-client';
import type { RunSpec } from '@export/contracts';
import type { RemovalOutcome, RemovalsRepository, PendingRemoval } from '../sync/removals.repository';
import type { PacedCall } from './autopilot-caller';

const PAGE = 500;

export interface RemovalContext {
  owner: string;
  spec: RunSpec;
  repo: RemovalsRepository;
  client: Pick<AutopilotClient, 'removeFromList'>;
  /** The key's paced call: removals take their turn at the key's slots with everything else. */
  call: PacedCall;
  /** Concurrent calls (as for sending). */
  workers: number;
  signal: AbortSignal;
  /** Called after each recorded page of outcomes. */
  onProgress(): void;
}

/**
 * The `removing` phase of a mirror run: each leaver leaves the list of the segment it left
 * (`DELETE /list/{list}/contact/{contact}`, never a contact deletion nor an unsubscribe, so a leaver who
 * unsubscribed stays unsubscribed); a `forget` only updates the state. Every outcome is recorded right after
 * Autopilot answered, so a crash repeats at most the calls in flight (a removal is idempotent: `not_modified`).
 * Returns the number of removals Autopilot refused.
 */
export async function removeLeavers(ctx: RemovalContext): Promise<number> {
  let refused = 0;
  for (let page = await ctx.repo.pending(ctx.spec.runId, PAGE); page.length > 0; page = await ctx.repo.pending(ctx.spec.runId, PAGE)) {
    const queue = [...page];
    await Promise.all(
      Array.from({ length: Math.max(1, ctx.workers) }, async () => {
        for (let removal = queue.shift(); removal; removal = queue.shift()) {
          ctx.signal.throwIfAborted();
          const outcome = await removeOne(ctx, removal);
          if (outcome.failure) refused++;
          await ctx.repo.record(ctx.owner, ctx.spec, [outcome]);
          ctx.onProgress();
        }
      }),
    );
  }
  return refused;
}

async function removeOne(ctx: RemovalContext, removal: PendingRemoval): Promise<RemovalOutcome> {
  if (removal.action === 'forget') return { removal };
  try {
    await ctx.call('DELETE /list/:id/contact/:id', () =>
      ctx.client.removeFromList(removal.listId, removal.contactId ?? removal.email),
    );
    return { removal };
  } catch (error) {
    // The list or the contact is gone in Autopilot: the contact is not in that list any more, which is the goal.
    if (isAutopilotFailure(error, 'not-found')) return { removal };
    if (isAutopilotFailure(error, 'bad-request') || isAutopilotFailure(error, 'refused'))
      return { removal, failure: error.message };
    throw error;
  }
}
