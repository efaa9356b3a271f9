import { Simulator, SimulatorAddress, createSimulator } from './simulator-app';

const KEY = 'test-key';

// The tests read arbitrary JSON answers and assert on them with matchers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('autopilot simulator over HTTP', () => {
  let simulator: Simulator;
  let address: SimulatorAddress;

  async function call(method: string, path: string, body?: unknown, key: string | null = KEY) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key !== null) headers['autopilotapikey'] = key;
    const response = await fetch(`${address.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text === '' ? undefined : JSON.parse(text)) as Json };
  }

  async function control(method: string, path: string, body?: unknown) {
    const response = await fetch(`${address.url}/__sim${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  const contacts = (count: number, prefix = 'user') =>
    Array.from({ length: count }, (_, i) => ({ Email: `${prefix}${i}@example.com`, FirstName: `First ${i}` }));

  beforeAll(async () => {
    simulator = createSimulator({ apiKeys: [KEY, 'shared-1:acme', 'shared-2:acme'], switches: { rateLimitRps: 0 } });
    address = await simulator.listen(0);
  });

  afterAll(() => simulator.close());

  beforeEach(() => control('POST', '/reset'));

  describe('authentication', () => {
    it('answers 400 without the header and 401 for an unknown key', async () => {
      expect(await call('GET', '/account', undefined, null)).toMatchObject({
        status: 400,
        body: { error: 'Bad Request', message: expect.any(String) },
      });
      expect(await call('GET', '/account', undefined, 'nope')).toMatchObject({
        status: 401,
        body: { error: 'Unauthorized', message: 'Provided autopilotapikey not valid.' },
      });
      expect((await call('GET', '/account')).status).toBe(200);
    });

    it('adds keys at runtime and revokes them', async () => {
      expect((await control('POST', '/keys', { key: 'new-key' })).status).toBe(201);
      expect((await call('GET', '/account', undefined, 'new-key')).status).toBe(200);
      expect((await control('DELETE', '/keys/new-key')).body).toMatchObject({ key: 'new-key', revoked: true });
      expect((await call('GET', '/account', undefined, 'new-key')).status).toBe(401);
      expect((await control('DELETE', '/keys/never-seen')).status).toBe(404);
    });

    it('turns a key into 401 after N requests', async () => {
      await control('PATCH', '/faults', { revokeAfter: { [KEY]: 2 } });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await call('GET', '/account')).status);
      expect(statuses).toEqual([200, 200, 401]);
    });

    it('lets keys of one account see the same data, and other accounts none of it', async () => {
      await call('POST', '/contact', { contact: { Email: 'a@x.com' } }, 'shared-1');
      expect((await call('GET', '/contact/a@x.com', undefined, 'shared-2')).status).toBe(200);
      expect((await call('GET', '/contact/a@x.com')).status).toBe(404);
    });
  });

  describe('contacts', () => {
    it('upserts one contact', async () => {
      const first = await call('POST', '/contact', { contact: { Email: 'Ann@Example.com', FirstName: 'Ann' } });
      expect(first).toMatchObject({ status: 200, body: { contact_id: expect.stringMatching(/^person_/) } });
      const again = await call('POST', '/contact', { contact: { Email: 'ann@example.com', LastName: 'Lee' } });
      expect(again.body.contact_id).toBe(first.body.contact_id);
      const shown = await call('GET', `/contact/${first.body.contact_id}`);
      expect(shown.body).toMatchObject({ Email: 'ann@example.com', FirstName: 'Ann', LastName: 'Lee', unsubscribed: false });
    });

    it('accepts a bulk of 100 and answers with a lower-cased email map', async () => {
      const batch = contacts(100);
      batch[0].Email = 'MiXeD@Example.com';
      const response = await call('POST', '/contacts', { contacts: batch });
      expect(response.status).toBe(200);
      expect(response.body.contact_ids).toHaveLength(100);
      expect(Object.keys(response.body.email_contact_map)).toHaveLength(100);
      expect(response.body.email_contact_map['mixed@example.com']).toMatch(/^person_/);
      expect((await control('GET', '/stats')).body.contacts.total).toBe(100);
    });

    it('rejects a bulk of 101 and stores nothing', async () => {
      const response = await call('POST', '/contacts', { contacts: contacts(101) });
      expect(response).toMatchObject({ status: 400, body: { error: 'Bad Request' } });
      expect((await control('GET', '/stats')).body.contacts.total).toBe(0);
    });

    it('rejects the whole bulk for one contact without Email or with a bad custom key', async () => {
      const missing = [...contacts(3), { FirstName: 'Nobody' }];
      expect((await call('POST', '/contacts', { contacts: missing })).status).toBe(400);
      const badKey = [{ Email: 'a@x.com', custom: { 'Loyalty Tier': 'Gold' } }];
      expect((await call('POST', '/contacts', { contacts: badKey })).body.message).toMatch(/custom\["Loyalty Tier"\]/);
      expect((await control('GET', '/contacts')).body.count).toBe(0);
    });

    it('rejects an unknown _autopilot_list and accepts a known one', async () => {
      expect((await call('POST', '/contacts', { contacts: [{ Email: 'a@x.com', _autopilot_list: 'contactlist_nope' }] })).status).toBe(400);
      const { list_id } = (await call('POST', '/list', { name: 'Segment' })).body;
      await call('POST', '/contacts', { contacts: [{ Email: 'a@x.com', _autopilot_list: list_id }] });
      expect((await control('GET', `/lists/${list_id}/members`)).body).toMatchObject({ count: 1, members: [{ email: 'a@x.com' }] });
    });

    it('reports custom fields', async () => {
      await call('POST', '/contacts', { contacts: [{ Email: 'a@x.com', custom: { 'string--Loyalty--Tier': 'Gold', 'boolean--VIP': true } }] });
      expect((await call('GET', '/contacts/custom_fields')).body).toEqual([
        { name: 'Loyalty Tier', fieldType: 'string' },
        { name: 'VIP', fieldType: 'boolean' },
      ]);
    });

    it('counts a resubscribe as a violation', async () => {
      const { contact_id } = (await call('POST', '/contact', { contact: { Email: 'a@x.com' } })).body;
      expect((await call('POST', `/contact/${contact_id}/unsubscribe`)).status).toBe(200);
      await call('POST', '/contacts', { contacts: [{ Email: 'a@x.com', unsubscribed: false }] });
      const stats = (await control('GET', '/stats')).body;
      expect(stats.resubscribeViolations).toMatchObject({ count: 1, events: [{ email: 'a@x.com', apiKey: KEY }] });
    });

    it('answers 400 to a body that is not JSON', async () => {
      const response = await fetch(`${address.baseUrl}/contacts`, {
        method: 'POST',
        headers: { autopilotapikey: KEY, 'content-type': 'application/json' },
        body: '{"contacts": [',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'Bad Request' });
    });
  });

  describe('lists', () => {
    it('creates, finds, joins and leaves lists', async () => {
      const { list_id } = (await call('POST', '/list', { name: 'Segment A' })).body;
      expect(list_id).toMatch(/^contactlist_/);
      expect((await call('GET', '/lists')).body).toEqual({ lists: [{ list_id, title: 'Segment A' }] });
      await call('POST', '/contact', { contact: { Email: 'a@x.com' } });
      expect((await call('POST', `/list/${list_id}/contact/a@x.com`)).body).toEqual({});
      expect((await call('POST', `/list/${list_id}/contact/A@X.com`)).body).toEqual({ not_modified: true });
      expect((await call('DELETE', `/list/${list_id}/contact/a@x.com`)).body).toEqual({});
      expect((await call('DELETE', `/list/${list_id}/contact/a@x.com`)).body).toEqual({ not_modified: true });
      expect((await call('POST', `/list/contactlist_nope/contact/a@x.com`)).status).toBe(404);
    });

    it('creates a second list with the same title by default, or answers 409, and counts it', async () => {
      const first = (await call('POST', '/list', { name: 'Dup' })).body.list_id;
      const second = (await call('POST', '/list', { name: 'Dup' })).body.list_id;
      expect(second).not.toBe(first);
      await control('PATCH', '/faults', { duplicateListMode: 'conflict' });
      expect((await call('POST', '/list', { name: 'Dup' })).status).toBe(409);
      expect((await control('GET', '/stats')).body.duplicateListTitles).toMatchObject({ count: 2, titles: [{ title: 'Dup', attempts: 2 }] });
    });

    it('pages members 100 at a time until the bookmark is absent', async () => {
      const { list_id } = (await call('POST', '/list', { name: 'Big' })).body;
      for (let batch = 0; batch < 3; batch++) {
        const page = contacts(100, `b${batch}-`).map((contact) => ({ ...contact, _autopilot_list: list_id }));
        await call('POST', '/contacts', { contacts: page });
      }
      await call('POST', '/contacts', { contacts: contacts(50, 'tail-').map((c) => ({ ...c, _autopilot_list: list_id })) });
      const seen: string[] = [];
      let path = `/list/${list_id}/contacts`;
      let pages = 0;
      for (;;) {
        const { status, body } = await call('GET', path);
        expect(status).toBe(200);
        pages++;
        seen.push(...body.contacts.map((contact: { Email: string }) => contact.Email));
        expect(body.total_contacts).toBe(350);
        if (body.bookmark === undefined) break;
        path = `/list/${list_id}/contacts/${body.bookmark}`;
      }
      expect(pages).toBe(4);
      expect(new Set(seen).size).toBe(350);
    });
  });

  describe('rate limit', () => {
    it('answers 429 to the sixth request within a second', async () => {
      await control('PATCH', '/faults', { rateLimitRps: 5 });
      const statuses = await Promise.all(Array.from({ length: 6 }, () => call('GET', '/account')));
      const limited = statuses.filter((response) => response.status === 429);
      expect(statuses.filter((response) => response.status === 200)).toHaveLength(5);
      expect(limited).toHaveLength(1);
      expect(limited[0].body).toEqual({ error: 'Too Many Requests', message: 'You have exceeded your request rate of 5 r/s.' });
      expect(limited[0].headers.get('retry-after')).toBeNull();
      const stats = (await control('GET', '/stats')).body;
      expect(stats.rateLimited).toBe(1);
      expect(stats.keys[KEY]).toMatchObject({ admitted: 5, rejected: 1, maxAdmittedInWindow: 5, maxRequestsInWindow: 6 });
    });

    it('adds Retry-After when switched on, and forces 429 bursts', async () => {
      await control('PATCH', '/faults', { rateLimitRps: 1, retryAfter: true });
      await call('GET', '/account');
      const limited = await call('GET', '/account');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      await control('PUT', '/faults', { force429Next: 2 });
      expect((await call('GET', '/account')).status).toBe(429);
      expect((await call('GET', '/account')).status).toBe(429);
      expect((await call('GET', '/account')).status).toBe(200);
    });
  });

  describe('failure injection', () => {
    it('fails the next N requests with 503 and stores nothing', async () => {
      await control('PUT', '/faults', { fail503Next: 1, faultRoutes: ['POST /contacts'] });
      expect((await call('GET', '/account')).status).toBe(200);
      expect((await call('POST', '/contacts', { contacts: contacts(2) }))).toMatchObject({
        status: 503,
        body: { error: 'Service Unavailable' },
      });
      expect((await control('GET', '/stats')).body.contacts.total).toBe(0);
      expect((await call('POST', '/contacts', { contacts: contacts(2) })).status).toBe(200);
    });

    it('applies a hung request although the client gave up', async () => {
      await control('PUT', '/faults', { hangNext: 1, hangMs: 2_000 });
      const request = fetch(`${address.baseUrl}/contacts`, {
        method: 'POST',
        headers: { autopilotapikey: KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ contacts: [{ Email: 'slow@x.com' }] }),
        signal: AbortSignal.timeout(150),
      });
      await expect(request).rejects.toThrow();
      expect((await control('GET', '/contacts?email=SLOW@x.com')).body).toMatchObject({ count: 1, contacts: [{ email: 'slow@x.com' }] });
      expect((await control('GET', '/stats')).body.hung).toBe(1);
    });

    it('adds latency', async () => {
      await control('PUT', '/faults', { latencyMs: 120 });
      const started = Date.now();
      await call('GET', '/account');
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    });

    it('rejects bulks with a bad email and drops others silently', async () => {
      await control('PUT', '/faults', { badEmailPattern: 'bad', dropEmailPattern: '^lost' });
      const rejected = await call('POST', '/contacts', { contacts: [{ Email: 'ok@x.com' }, { Email: 'is-bad@x.com' }] });
      expect(rejected.status).toBe(400);
      const dropped = await call('POST', '/contacts', { contacts: [{ Email: 'ok@x.com' }, { Email: 'lost@x.com' }] });
      expect(Object.keys(dropped.body.email_contact_map)).toEqual(['ok@x.com']);
      // retried alone, the dropped contact lands
      expect((await call('POST', '/contact', { contact: { Email: 'lost@x.com' } })).status).toBe(200);
      expect((await call('POST', '/contact', { contact: { Email: 'is-bad@x.com' } })).status).toBe(400);
    });

    it('rejects invalid switches', async () => {
      const response = await control('PUT', '/faults', { fail503Probability: 3 });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(/fail503Probability/);
    });
  });

  describe('inspection', () => {
    it('reports requests by route and status', async () => {
      await call('GET', '/account');
      await call('GET', '/account', undefined, 'nope');
      await call('GET', '/nowhere');
      const stats = (await control('GET', '/stats')).body;
      expect(stats.requests.byRoute).toEqual({ 'GET /account': { 200: 1, 401: 1 }, unmatched: { 404: 1 } });
      expect(stats.keys[KEY]).toMatchObject({ account: KEY, revoked: false, requests: 1 });
    });

    it('lists stored contacts with offset and limit', async () => {
      await call('POST', '/contacts', { contacts: contacts(5) });
      const page = (await control('GET', '/contacts?offset=1&limit=2')).body;
      expect(page.count).toBe(5);
      expect(page.contacts.map((contact: { email: string }) => contact.email)).toEqual(['user1@example.com', 'user2@example.com']);
      expect(page.contacts[0]).toMatchObject({ account: KEY, upserts: 1, unsubscribed: false, fields: { FirstName: 'First 1' } });
      expect((await control('GET', '/contacts?limit=-1')).status).toBe(400);
    });

    it('answers unknown routes with an empty 404', async () => {
      const response = await call('GET', '/nowhere');
      expect(response).toEqual(expect.objectContaining({ status: 404, body: undefined }));
    });

    it('serves the API at another base path', async () => {
      const other = createSimulator({ apiKeys: ['k'], basePath: '/' });
      const where = await other.listen(0);
      try {
        expect(where.baseUrl).toBe(where.url);
        const response = await fetch(`${where.baseUrl}/account`, { headers: { autopilotapikey: 'k' } });
        expect(response.status).toBe(200);
        expect((await fetch(`${where.url}/__sim/health`)).status).toBe(200);
      } finally {
        await other.close();
      }
    });
  });
});
