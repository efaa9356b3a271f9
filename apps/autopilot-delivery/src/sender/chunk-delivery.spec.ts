import { AutopilotError, type AutopilotContactInput } from '@export/autopilot-client';
import type { PendingContact } from '../runs/runs.repository';
import { deliverChunk, type ChunkContext, type ContactFailure } from './chunk-delivery';

/** A fake Autopilot account: rejects bulk calls holding a "bad" e-mail, silently drops "drop" e-mails. */
function fakeAccount() {
  const calls: string[] = [];
  const stored = new Map<string, AutopilotContactInput>();
  const joins: string[] = [];
  const client: ChunkContext['client'] = {
    bulkUpsert: async (contacts) => {
      calls.push(`bulk ${contacts.length}`);
      if (contacts.some((c) => c.Email.startsWith('bad')))
        throw new AutopilotError('bad-request', 'Email is invalid.', { status: 400 });
      const map = new Map<string, string>();
      for (const c of contacts) {
        if (c.Email.startsWith('drop')) continue;
        stored.set(c.Email, c);
        map.set(c.Email, `person_${c.Email}`);
      }
      return { contactIds: [...map.values()], emailContactMap: map };
    },
    upsertContact: async (contact) => {
      calls.push(`one ${contact.Email}`);
      if (contact.Email.startsWith('dropbad'))
        throw new AutopilotError('bad-request', 'Contact refused.', { status: 400 });
      stored.set(contact.Email, contact);
      return `person_${contact.Email}`;
    },
    addToList: async (listId, email) => {
      calls.push(`join ${listId} ${email}`);
      joins.push(`${listId}:${email}`);
    },
  };
  return { client, calls, stored, joins };
}

const contact = (email: string, seq: number, segmentIds = ['seg-a']): PendingContact => ({
  email,
  seq,
  contact: { Email: email, FirstName: 'X' },
  segmentIds,
});

function context(client: ChunkContext['client']) {
  const sent: string[] = [];
  const failed: ContactFailure[] = [];
  const lists: Record<string, string> = { 'seg-a': 'contactlist_a', 'seg-b': 'contactlist_b' };
  let refreshed = 0;
  const ctx: ChunkContext = {
    client,
    call: (_route, send) => send(),
    listIdOf: (segmentId) => lists[segmentId],
    refreshLists: async () => {
      refreshed++;
      if (refreshed > 1) return false;
      lists['seg-a'] = 'contactlist_a2';
      return true;
    },
    onSent: async (done) => void sent.push(...done.map((d) => d.email)),
    onFailed: async (failures) => void failed.push(...failures),
  };
  return { ctx, sent, failed, refreshes: () => refreshed };
}

describe('deliverChunk', () => {
  it('sends one bulk call joining the first list, and one bulk call per further list', async () => {
    const account = fakeAccount();
    const { ctx, sent, failed } = context(account.client);
    await deliverChunk(ctx, [
      contact('a@x.com', 1),
      contact('b@x.com', 2, ['seg-a', 'seg-b']),
      contact('c@x.com', 3, ['seg-a', 'seg-b']),
    ]);
    expect(account.calls).toEqual(['bulk 3', 'bulk 2']);
    expect(account.stored.get('a@x.com')).toMatchObject({ _autopilot_list: 'contactlist_a' });
    // The join carries nothing but the e-mail and the list: no field is touched.
    expect(account.stored.get('b@x.com')).toEqual({ Email: 'b@x.com', _autopilot_list: 'contactlist_b' });
    expect(sent).toEqual(['a@x.com', 'b@x.com', 'c@x.com']);
    expect(failed).toEqual([]);
  });

  it('joins a further list one by one when the bulk join leaves a contact out', async () => {
    const account = fakeAccount();
    const { ctx, sent, failed } = context(account.client);
    await deliverChunk(ctx, [contact('a@x.com', 1), contact('drop@x.com', 2, ['seg-a', 'seg-b'])]);
    expect(account.calls).toEqual(['bulk 2', 'one drop@x.com', 'bulk 1', 'join contactlist_b drop@x.com']);
    expect(sent).toEqual(['a@x.com', 'drop@x.com']);
    expect(failed).toEqual([]);
  });

  it('isolates the bad contact of a 400 by halving and sends the rest', async () => {
    const account = fakeAccount();
    const { ctx, sent, failed } = context(account.client);
    const contacts = Array.from({ length: 100 }, (_, i) =>
      contact(i === 37 ? 'bad37@x.com' : `c${i}@x.com`, i),
    );
    await deliverChunk(ctx, contacts);
    expect(failed).toEqual([{ email: 'bad37@x.com', reason: expect.stringContaining('Email is invalid.') }]);
    expect(sent.sort()).toEqual(
      contacts
        .filter((_, i) => i !== 37)
        .map((c) => c.email)
        .sort(),
    );
    // log2(100) levels of halving, not 100 single calls
    expect(account.calls.length).toBeLessThanOrEqual(16);
  });

  it('upserts an e-mail missing from the map alone, and fails it with the reason when that fails too', async () => {
    const account = fakeAccount();
    const { ctx, sent, failed } = context(account.client);
    await deliverChunk(ctx, [contact('a@x.com', 1), contact('drop1@x.com', 2), contact('dropbad@x.com', 3)]);
    expect(account.calls).toEqual(['bulk 3', 'one drop1@x.com', 'one dropbad@x.com']);
    expect(sent).toEqual(['a@x.com', 'drop1@x.com']);
    expect(failed).toEqual([{ email: 'dropbad@x.com', reason: expect.stringContaining('Contact refused.') }]);
  });

  it('lets retryable failures through to the caller (the ledger keeps the contacts pending)', async () => {
    const account = fakeAccount();
    account.client.bulkUpsert = async () => {
      throw new AutopilotError('unavailable', 'down', { status: 503 });
    };
    const { ctx, sent } = context(account.client);
    await expect(deliverChunk(ctx, [contact('a@x.com', 1)])).rejects.toMatchObject({
      failure: 'unavailable',
    });
    expect(sent).toEqual([]);
  });

  describe('answers by class', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => contact(`c${i}@x.com`, i));

    it('a 404 (list deleted in Autopilot) looks the lists up again once and resends, no bisection', async () => {
      const account = fakeAccount();
      const bulk = account.client.bulkUpsert;
      account.client.bulkUpsert = async (contacts) => {
        if (contacts.some((c) => c['_autopilot_list'] === 'contactlist_a')) {
          account.calls.push(`bulk ${contacts.length} -> 404`);
          throw new AutopilotError('not-found', 'List not found', { status: 404 });
        }
        return bulk(contacts);
      };
      const { ctx, sent, failed, refreshes } = context(account.client);
      await deliverChunk(ctx, many(100));
      expect(account.calls).toEqual(['bulk 100 -> 404', 'bulk 100']);
      expect(refreshes()).toBe(1);
      expect(account.stored.get('c5@x.com')).toMatchObject({ _autopilot_list: 'contactlist_a2' });
      expect(sent).toHaveLength(100);
      expect(failed).toEqual([]);
    });

    it('a 404 that stays after the lists were looked up again fails the call, not 199 bisected calls', async () => {
      const account = fakeAccount();
      account.client.bulkUpsert = async (contacts) => {
        account.calls.push(`bulk ${contacts.length}`);
        throw new AutopilotError('not-found', 'List not found', { status: 404 });
      };
      const { ctx, sent } = context(account.client);
      await expect(deliverChunk(ctx, many(100))).rejects.toMatchObject({ failure: 'not-found' });
      // First 404 -> the lists are looked up again -> the resend 404s -> refreshLists says it already ran.
      expect(account.calls.length).toBeLessThanOrEqual(3);
      expect(sent).toEqual([]);
    });

    it('a 403 fails at once: one call, no bisection, nothing marked sent or failed', async () => {
      const account = fakeAccount();
      account.client.bulkUpsert = async (contacts) => {
        account.calls.push(`bulk ${contacts.length}`);
        throw new AutopilotError('forbidden', 'Not allowed', { status: 403 });
      };
      const { ctx, sent, failed } = context(account.client);
      await expect(deliverChunk(ctx, many(100))).rejects.toMatchObject({ failure: 'forbidden' });
      expect(account.calls).toEqual(['bulk 100']);
      expect(sent).toEqual([]);
      expect(failed).toEqual([]);
    });

    it('a 413 splits by bytes; only a contact too large on its own fails', async () => {
      const account = fakeAccount();
      const bulk = account.client.bulkUpsert;
      const LIMIT = 4000;
      account.client.bulkUpsert = async (contacts) => {
        const bytes = Buffer.byteLength(JSON.stringify({ contacts }));
        if (bytes > LIMIT) {
          account.calls.push(`bulk ${contacts.length} -> 413`);
          throw new AutopilotError('too-large', 'Request Entity Too Large', { status: 413 });
        }
        return bulk(contacts);
      };
      const contacts = many(60);
      contacts[7] = { ...contacts[7], contact: { Email: 'c7@x.com', FirstName: 'x'.repeat(5000) } };
      contacts[40] = { ...contacts[40], contact: { Email: 'c40@x.com', FirstName: 'y'.repeat(1500) } };
      const { ctx, sent, failed } = context(account.client);
      await deliverChunk(ctx, contacts);
      expect(failed).toEqual([{ email: 'c7@x.com', reason: expect.stringContaining('too large') }]);
      expect(sent.sort()).toEqual(contacts.filter((_, i) => i !== 7).map((c) => c.email).sort());
      // The big contact is isolated by byte-balanced halves: its half shrinks fast, the rest goes in few calls.
      expect(account.calls.length).toBeLessThanOrEqual(20);
    });

    it('another 4xx (409, 422) fails the chunk with the reason: no bisection, no retry', async () => {
      const account = fakeAccount();
      account.client.bulkUpsert = async (contacts) => {
        account.calls.push(`bulk ${contacts.length}`);
        throw new AutopilotError('refused', 'Autopilot POST /contacts answered 409: Conflict', { status: 409 });
      };
      const { ctx, sent, failed } = context(account.client);
      await deliverChunk(ctx, many(100));
      expect(account.calls).toEqual(['bulk 100']);
      expect(sent).toEqual([]);
      expect(failed).toHaveLength(100);
      expect(failed[0].reason).toContain('409');
    });
  });
});
