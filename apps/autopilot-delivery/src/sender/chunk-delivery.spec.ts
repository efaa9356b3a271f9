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
  const ctx: ChunkContext = {
    client,
    call: (_route, send) => send(),
    listIdOf: (segmentId) => ({ 'seg-a': 'contactlist_a', 'seg-b': 'contactlist_b' })[segmentId],
    onSent: async (emails) => void sent.push(...emails),
    onFailed: async (failures) => void failed.push(...failures),
  };
  return { ctx, sent, failed };
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
});
