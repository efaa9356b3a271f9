import {
  isAutopilotFailure,
  type AutopilotError,
  type AutopilotClient,
  type AutopilotContactInput,
} from '@export/autopilot-client';
import type { PendingContact } from '../runs/runs.repository';
import type { PacedCall } from './autopilot-caller';

export interface ContactFailure {
  email: string;
  reason: string;
}

export interface SentContact {
  email: string;
  contactId?: string;
}

export interface ChunkContext {
  client: Pick<AutopilotClient, 'bulkUpsert' | 'upsertContact' | 'addToList'>;
  call: PacedCall;
  /** Autopilot list id of a segment. */
  listIdOf(segmentId: string): string | undefined;
  /**
   * After a 404 (a list deleted in Autopilot): forgets the run's list ids and looks them up (or creates
   * them) again. Resolves true when it did, false when it already did once for this run.
   */
  refreshLists(): Promise<boolean>;
  /**
   * Called right after each successful call, so the ledger is current when a crash happens; with the contact id
   * Autopilot returned for each (when it said).
   */
  onSent(sent: SentContact[]): Promise<void>;
  onFailed(failures: ContactFailure[]): Promise<void>;
}

/**
 * Delivers up to 100 contacts (distinct e-mails) in one bulk upsert; the first segment's list is joined
 * in the same call (`_autopilot_list`), further segments with one call each. What Autopilot answers decides
 * what follows (see AutopilotFailure): a 400 splits the chunk in halves until the bad contacts are alone
 * (reported failed with Autopilot's message); a 413 splits it in halves of equal bytes until a contact alone
 * is too large; a 404 looks the lists up again once and resends; a 403 and every retryable failure go to the
 * caller (the run fails, or the call is retried); another 4xx fails the chunk's contacts with the reason.
 * An e-mail missing from the bulk answer is upserted alone to land it or learn why.
 */
export async function deliverChunk(ctx: ChunkContext, contacts: PendingContact[]): Promise<void> {
  if (contacts.length === 0) return;
  let landed: Map<string, string>;
  try {
    const result = await ctx.call('POST /contacts', () =>
      ctx.client.bulkUpsert(contacts.map((c) => payload(ctx, c))),
    );
    landed = result.emailContactMap;
  } catch (error) {
    if (isAutopilotFailure(error, 'not-found') && (await ctx.refreshLists())) return deliverChunk(ctx, contacts);
    if (isAutopilotFailure(error, 'refused'))
      return ctx.onFailed(contacts.map((c) => ({ email: c.email, reason: error.message })));
    const split = isAutopilotFailure(error, 'bad-request')
      ? halves(contacts)
      : isAutopilotFailure(error, 'too-large')
        ? halvesByBytes(ctx, contacts)
        : undefined;
    if (!split) throw error;
    if (contacts.length === 1) {
      const said = (error as AutopilotError).message;
      const reason = isAutopilotFailure(error, 'too-large') ? `too large for Autopilot on its own (413): ${said}` : said;
      return ctx.onFailed([{ email: contacts[0].email, reason }]);
    }
    for (const part of split) await deliverChunk(ctx, part);
    return;
  }

  const stored: PendingContact[] = [];
  const contactIds = new Map(landed);
  const failed: ContactFailure[] = [];
  for (const contact of contacts) {
    if (landed.has(contact.email)) {
      stored.push(contact);
      continue;
    }
    try {
      contactIds.set(
        contact.email,
        await ctx.call('POST /contact', () => ctx.client.upsertContact(payload(ctx, contact))),
      );
      stored.push(contact);
    } catch (error) {
      if (!isContactRefusal(error)) throw error;
      failed.push({ email: contact.email, reason: `not stored by the bulk upsert; alone: ${error.message}` });
    }
  }

  let unjoined: ContactFailure[];
  try {
    unjoined = await joinFurtherLists(ctx, stored);
  } catch (error) {
    if (!isAutopilotFailure(error, 'not-found') || !(await ctx.refreshLists())) throw error;
    unjoined = await joinFurtherLists(ctx, stored);
  }
  failed.push(...unjoined);
  const refused = new Set(unjoined.map((f) => f.email));
  await ctx.onSent(
    stored
      .filter((c) => !refused.has(c.email))
      .map((c) => ({ email: c.email, contactId: contactIds.get(c.email) })),
  );
  await ctx.onFailed(failed);
}

/**
 * Contacts in several segments join the further lists with one bulk upsert per list carrying only
 * `Email` and `_autopilot_list` (fields left as they are): one call per 100 contacts instead of one
 * `POST /list/:id/contact/:email` per contact, which at 5 r/s would make overlapping segments 100x
 * slower. A contact the bulk call does not take joins one by one.
 */
async function joinFurtherLists(ctx: ChunkContext, contacts: PendingContact[]): Promise<ContactFailure[]> {
  const byList = new Map<string, PendingContact[]>();
  for (const contact of contacts) {
    for (const segmentId of contact.segmentIds.slice(1)) {
      const listId = ctx.listIdOf(segmentId);
      if (listId) byList.set(listId, [...(byList.get(listId) ?? []), contact]);
    }
  }
  const failures: ContactFailure[] = [];
  for (const [listId, members] of byList) {
    let alone = members;
    try {
      const result = await ctx.call('POST /contacts', () =>
        ctx.client.bulkUpsert(members.map((c) => ({ Email: c.contact.Email, _autopilot_list: listId }))),
      );
      alone = members.filter((c) => !result.emailContactMap.has(c.email));
    } catch (error) {
      if (!isContactRefusal(error)) throw error;
    }
    for (const contact of alone) {
      try {
        await ctx.call('POST /list/:id/contact/:email', () => ctx.client.addToList(listId, contact.email));
      } catch (error) {
        if (!isContactRefusal(error)) throw error;
        failures.push({ email: contact.email, reason: `could not join list ${listId}: ${error.message}` });
      }
    }
  }
  return failures;
}

function payload(ctx: ChunkContext, contact: PendingContact): AutopilotContactInput {
  const listId = contact.segmentIds.length > 0 ? ctx.listIdOf(contact.segmentIds[0]) : undefined;
  return listId ? { ...contact.contact, _autopilot_list: listId } : { ...contact.contact };
}

/** Failures that concern the contacts of one request: they fail those contacts, never the run. */
function isContactRefusal(error: unknown): error is AutopilotError {
  return (
    isAutopilotFailure(error, 'bad-request') ||
    isAutopilotFailure(error, 'too-large') ||
    isAutopilotFailure(error, 'refused')
  );
}

function halves(contacts: PendingContact[]): PendingContact[][] {
  const half = Math.ceil(contacts.length / 2);
  return [contacts.slice(0, half), contacts.slice(half)];
}

/** Two parts of (nearly) equal encoded size, order kept: a 413 is about bytes, not about a count. */
function halvesByBytes(ctx: ChunkContext, contacts: PendingContact[]): PendingContact[][] {
  const sizes = contacts.map((c) => Buffer.byteLength(JSON.stringify(payload(ctx, c))));
  const total = sizes.reduce((a, b) => a + b, 0);
  let cut = 0;
  for (let sum = 0; cut < contacts.length - 1 && sum + sizes[cut] <= total / 2; cut++) sum += sizes[cut];
  cut = Math.min(Math.max(cut, 1), contacts.length - 1);
  return [contacts.slice(0, cut), contacts.slice(cut)];
}
