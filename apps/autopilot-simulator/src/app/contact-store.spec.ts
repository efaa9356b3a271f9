import { ApiError } from './api-error';
import { parseBulkContactsBody, parseSingleContactBody } from './contact-schema';
import { ContactStore, LIST_PAGE_SIZE, bulkAnswerJson } from './contact-store';

const context = { apiKey: 'key', now: 1_000 };

function newStore() {
  let next = 0;
  return new ContactStore(() => `ID${++next}`);
}

function bulk(contacts: unknown[]) {
  return parseBulkContactsBody({ contacts });
}

describe('contact parsing', () => {
  it('accepts 100 contacts and rejects 101', () => {
    const contacts = Array.from({ length: 101 }, (_, i) => ({ Email: `u${i}@x.com` }));
    expect(bulk(contacts.slice(0, 100))).toHaveLength(100);
    expect(() => bulk(contacts)).toThrow('A maximum of 100 contacts can be sent per request (got 101).');
  });

  it('needs a valid Email on every bulk contact but not on a single one', () => {
    expect(() => bulk([{ Email: 'a@x.com' }, { FirstName: 'No Email' }])).toThrow(/contacts\[1\]\.Email/);
    expect(() => bulk([{ Email: 'not-an-email' }])).toThrow(ApiError);
    expect(() => bulk([{ email: 'a@x.com' }])).toThrow(/Email/);
    expect(parseSingleContactBody({ contact: { FirstName: 'Ann' } })).toEqual({ FirstName: 'Ann' });
    expect(() => parseSingleContactBody({ contact: { Email: 'nope' } })).toThrow(/valid e-mail/);
    expect(() => parseSingleContactBody({})).toThrow(ApiError);
  });

  it('checks custom field keys and value types', () => {
    expect(bulk([{ Email: 'a@x.com', custom: { 'string--Loyalty--Tier': 'Gold', 'date--Joined': '2024-01-31' } }])).toHaveLength(1);
    expect(() => bulk([{ Email: 'a@x.com', custom: { 'Loyalty Tier': 'Gold' } }])).toThrow(/custom field keys/);
    expect(() => bulk([{ Email: 'a@x.com', custom: { 'string--Loyalty Tier': 'Gold' } }])).toThrow(ApiError);
    expect(() => bulk([{ Email: 'a@x.com', custom: { 'text--Tier': 'Gold' } }])).toThrow(ApiError);
    expect(() => bulk([{ Email: 'a@x.com', custom: { 'integer--Age': '12' } }])).toThrow(/expected an integer/);
    expect(() => bulk([{ Email: 'a@x.com', custom: { 'date--Joined': 'yesterday' } }])).toThrow(/ISO-8601/);
    expect(() => bulk([{ Email: 'a@x.com', unsubscribed: 'yes' }])).toThrow(/unsubscribed/);
  });
});

describe('ContactStore', () => {
  it('merges by lower-cased Email and answers with a lower-cased map', () => {
    const store = newStore();
    const first = store.upsertContacts('acme', bulk([{ Email: 'Ann@X.com', FirstName: 'Ann', custom: { 'string--Tier': 'Gold' } }]), context);
    const second = store.upsertContacts('acme', bulk([{ Email: 'ann@x.com', LastName: 'Lee', custom: { 'integer--Age': 3 } }]), context);
    expect(first).toEqual({ contact_ids: ['person_ID1'], email_contact_map: new Map([['ann@x.com', 'person_ID1']]) });
    expect(second.contact_ids).toEqual(['person_ID1']);
    const stored = store.findContact('acme', 'ANN@x.com');
    expect(stored).toMatchObject({
      fields: { Email: 'ann@x.com', FirstName: 'Ann', LastName: 'Lee' },
      custom: { 'string--Tier': 'Gold', 'integer--Age': 3 },
      upserts: 2,
    });
    expect(store.customFields('acme')).toEqual([
      { name: 'Tier', fieldType: 'string', key: 'string--Tier' },
      { name: 'Age', fieldType: 'integer', key: 'integer--Age' },
    ]);
  });

  it('keeps accounts apart', () => {
    const store = newStore();
    store.upsertContacts('a', bulk([{ Email: 'x@x.com' }]), context);
    expect(store.findContact('b', 'x@x.com')).toBeUndefined();
    expect(store.contactCount()).toEqual({ total: 1, byAccount: { a: 1 } });
  });

  it('stores nothing when one contact of a bulk is rejected', () => {
    const store = newStore();
    const contacts = bulk([{ Email: 'good@x.com' }, { Email: 'good2@x.com', _autopilot_list: 'contactlist_nope' }]);
    expect(() => store.upsertContacts('a', contacts, context)).toThrow(/does not exist/);
    const flagged = bulk([{ Email: 'good@x.com' }, { Email: 'bad@x.com' }]);
    expect(() => store.upsertContacts('a', flagged, context, { isRejected: (email) => email.includes('bad') })).toThrow(
      /bad@x.com was rejected/,
    );
    expect(store.contactCount().total).toBe(0);
  });

  it('refuses a custom field sent with another type than before', () => {
    const store = newStore();
    store.upsertContacts('a', bulk([{ Email: 'a@x.com', custom: { 'string--Tier': 'Gold' } }]), context);
    expect(() => store.upsertContacts('a', bulk([{ Email: 'b@x.com', custom: { 'integer--Tier': 1 } }]), context)).toThrow(
      /is of type string/,
    );
    expect(() =>
      store.upsertContacts('a', bulk([{ Email: 'c@x.com', custom: { 'float--Score': 1 } }, { Email: 'd@x.com', custom: { 'integer--Score': 1 } }]), context),
    ).toThrow(/is of type float/);
  });

  it('silently drops matching emails from a bulk answer', () => {
    const store = newStore();
    const result = store.upsertContacts('a', bulk([{ Email: 'keep@x.com' }, { Email: 'drop@x.com' }]), context, {
      isDropped: (email) => email.startsWith('drop'),
    });
    expect([...result.email_contact_map.keys()]).toEqual(['keep@x.com']);
    expect(result.contact_ids).toHaveLength(1);
    expect(store.findContact('a', 'drop@x.com')).toBeUndefined();
  });

  it('records a resubscribe violation but applies it as Autopilot would', () => {
    const store = newStore();
    store.upsertContacts('a', bulk([{ Email: 'a@x.com' }]), context);
    store.unsubscribe('a', 'a@x.com', 2_000);
    store.upsertContacts('a', bulk([{ Email: 'a@x.com', unsubscribed: true }]), context);
    expect(store.anomalyReport().resubscribeViolations).toHaveLength(0);
    store.upsertContacts('a', bulk([{ Email: 'a@x.com', unsubscribed: false }]), { apiKey: 'k2', now: 3_000 });
    expect(store.anomalyReport().resubscribeViolations).toEqual([
      { account: 'a', apiKey: 'k2', email: 'a@x.com', contactId: 'person_ID1', at: 3_000 },
    ]);
    expect(store.findContact('a', 'a@x.com')?.unsubscribed).toBe(false);
  });

  it('writes the bulk answer as JSON.stringify writes its object form: first-seen order, escapes, duplicates', () => {
    const store = newStore();
    const emails = ['b@x.com', 'A@x.com', 'q"uote\\back@x.com', 'a@x.com', 'é@x.com'];
    // Straight to the store: characters JSON must escape, which the e-mail check would refuse first.
    const result = store.upsertContacts('a', emails.map((Email) => ({ Email })), context);
    const asObject: Record<string, string> = {};
    for (const [email, id] of result.email_contact_map) asObject[email] = id;
    expect(bulkAnswerJson(result)).toBe(JSON.stringify({ contact_ids: result.contact_ids, email_contact_map: asObject }));
    expect(JSON.parse(bulkAnswerJson(result))).toEqual({
      contact_ids: ['person_ID1', 'person_ID2', 'person_ID3', 'person_ID2', 'person_ID4'],
      email_contact_map: { 'b@x.com': 'person_ID1', 'a@x.com': 'person_ID2', 'q"uote\\back@x.com': 'person_ID3', 'é@x.com': 'person_ID4' },
    });
  });

  it('counts duplicate emails in one bulk, contacts without Email and unknown fields', () => {
    const store = newStore();
    store.upsertContacts('a', bulk([{ Email: 'a@x.com', firstName: 'x' }, { Email: 'A@x.com' }]), context);
    store.upsertContact('a', parseSingleContactBody({ contact: { FirstName: 'Anon' } }), context);
    store.upsertContact('a', parseSingleContactBody({ contact: { FirstName: 'Anon' } }), context);
    const report = store.anomalyReport();
    expect(report.duplicateEmailsInBulk).toBe(1);
    expect(report.contactsWithoutEmail).toBe(2);
    expect(report.unknownFields).toEqual({ firstName: 1 });
    expect(store.contactCount().total).toBe(3);
  });

  it('creates duplicate list titles or refuses them, and counts them either way', () => {
    const store = newStore();
    const first = store.createList('a', 'Segment 1', 'create', 0);
    const second = store.createList('a', 'Segment 1', 'create', 0);
    expect(second).not.toBe(first);
    expect(() => store.createList('a', 'Segment 1', 'conflict', 0)).toThrow(ApiError);
    store.createList('b', 'Segment 1', 'conflict', 0);
    expect(store.anomalyReport().duplicateListTitles).toEqual([{ account: 'a', title: 'Segment 1', attempts: 2 }]);
    expect(store.lists('a')).toEqual([
      { list_id: first, title: 'Segment 1' },
      { list_id: second, title: 'Segment 1' },
    ]);
    expect(() => store.createList('a', '  ', 'create', 0)).toThrow(/name/);
  });

  it('adds and removes members by id or email, answering not-modified', () => {
    const store = newStore();
    const listId = store.createList('a', 'L', 'create', 0);
    const { contact_ids } = store.upsertContacts('a', bulk([{ Email: 'a@x.com' }]), context);
    expect(store.addToList('a', listId, 'A@x.com', 0)).toBe(true);
    expect(store.addToList('a', listId, contact_ids[0], 0)).toBe(false);
    expect(store.removeFromList('a', listId, contact_ids[0], 0)).toBe(true);
    expect(store.removeFromList('a', listId, 'a@x.com', 0)).toBe(false);
    expect(() => store.addToList('a', listId, 'nobody@x.com', 0)).toThrow(/could not be found/);
    expect(() => store.addToList('a', 'contactlist_x', 'a@x.com', 0)).toThrow(/could not be found/);
  });

  it('joins the list named by _autopilot_list', () => {
    const store = newStore();
    const listId = store.createList('a', 'L', 'create', 0);
    store.upsertContacts('a', bulk([{ Email: 'a@x.com', _autopilot_list: listId }]), context);
    store.upsertContacts('a', bulk([{ Email: 'a@x.com', _autopilot_list: listId }]), context);
    expect(store.listMembers(listId)?.members.map((c) => c.emailKey)).toEqual(['a@x.com']);
  });

  it('pages members 100 at a time with a bookmark only while more follow', () => {
    const store = newStore();
    const listId = store.createList('a', 'L', 'create', 0);
    for (let batch = 0; batch < 3; batch++) {
      const contacts = Array.from({ length: 100 }, (_, i) => ({ Email: `u${batch * 100 + i}@x.com`, _autopilot_list: listId }));
      store.upsertContacts('a', bulk(contacts), context);
    }
    const first = store.listPage('a', listId);
    expect(first.contacts).toHaveLength(LIST_PAGE_SIZE);
    expect(first.total).toBe(300);
    // removals between pages do not shift the rest
    store.removeFromList('a', listId, 'u0@x.com', 0);
    store.removeFromList('a', listId, 'u150@x.com', 0);
    const second = store.listPage('a', listId, first.bookmark);
    expect(second.contacts[0].emailKey).toBe('u100@x.com');
    expect(second.contacts).toHaveLength(100);
    const third = store.listPage('a', listId, second.bookmark);
    expect(third.contacts).toHaveLength(99);
    expect(third.bookmark).toBeUndefined();
    expect(() => store.listPage('a', listId, 'garbage!')).toThrow(/bookmark/);
  });

  it('leaves the bookmark out when a list holds exactly one page', () => {
    const store = newStore();
    const listId = store.createList('a', 'L', 'create', 0);
    const contacts = Array.from({ length: 100 }, (_, i) => ({ Email: `u${i}@x.com`, _autopilot_list: listId }));
    store.upsertContacts('a', bulk(contacts), context);
    expect(store.listPage('a', listId).bookmark).toBeUndefined();
    expect(store.listPage('a', store.createList('a', 'Empty', 'create', 0))).toEqual({ contacts: [], total: 0 });
  });

  it('forgets everything on reset', () => {
    const store = newStore();
    store.upsertContacts('a', bulk([{ Email: 'a@x.com' }]), context);
    store.createList('a', 'L', 'create', 0);
    store.reset();
    expect(store.contactCount().total).toBe(0);
    expect(store.listSummaries()).toEqual([]);
  });
});
