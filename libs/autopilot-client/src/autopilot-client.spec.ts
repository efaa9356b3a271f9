import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AutopilotClient, parseRetryAfter } from './autopilot-client';
import { AutopilotError } from './autopilot-error';

type Handler = (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => void;

const SECRET = 'sk-very-secret-key-1234';

/** A tiny Autopilot stub on a free port; each test sets how it answers. */
describe('AutopilotClient', () => {
  let server: Server;
  let baseUrl: string;
  let handler: Handler;
  const seen: { method?: string; url?: string; key?: string; body?: unknown }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const body = raw ? JSON.parse(raw) : undefined;
        seen.push({ method: req.method, url: req.url, key: req.headers['autopilotapikey'] as string, body });
        handler(Object.assign(req, { body }), res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => (seen.length = 0));

  const client = (timeoutMs?: number) => new AutopilotClient({ baseUrl, apiKey: SECRET, timeoutMs });
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const failureOf = async (promise: Promise<unknown>): Promise<AutopilotError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AutopilotError);
    const failure = error as AutopilotError;
    // The key must never travel inside an error.
    expect(JSON.stringify({ ...failure, message: failure.message, stack: failure.stack })).not.toContain(
      SECRET,
    );
    return failure;
  };

  it('sends the key header and reads the account', async () => {
    handler = (_req, res) => json(res, 200, { instance_id: 1 });
    await expect(client().getAccount()).resolves.toEqual({ instance_id: 1 });
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/account', key: SECRET });
  });

  it('bulk upserts, strips unsubscribed:false and lower-cases the map', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        contact_ids: ['person_1', 'person_2'],
        email_contact_map: { 'A@X.com': 'person_1', 'b@x.com': 'person_2' },
      });
    const result = await client().bulkUpsert([
      { Email: 'a@x.com', unsubscribed: false, _autopilot_list: 'contactlist_1' },
      { Email: 'b@x.com', unsubscribed: true },
    ]);
    expect(result.contactIds).toEqual(['person_1', 'person_2']);
    expect([...result.emailContactMap]).toEqual([
      ['a@x.com', 'person_1'],
      ['b@x.com', 'person_2'],
    ]);
    expect(seen[0].body).toEqual({
      contacts: [
        { Email: 'a@x.com', _autopilot_list: 'contactlist_1' },
        { Email: 'b@x.com', unsubscribed: true },
      ],
    });
  });

  it('refuses more than 100 contacts or two variants of one e-mail without calling', async () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ Email: `c${i}@x.com` }));
    await expect(client().bulkUpsert(many)).rejects.toThrow(/at most 100/);
    await expect(client().bulkUpsert([{ Email: 'a@x.com' }, { Email: ' A@x.COM' }])).rejects.toThrow(
      /Duplicate/,
    );
    expect(seen).toHaveLength(0);
  });

  it('upserts one contact, lists, creates lists and adds to a list', async () => {
    handler = (req, res) => {
      if (req.url === '/v1/contact') return json(res, 200, { contact_id: 'person_9' });
      if (req.url === '/v1/lists')
        return json(res, 200, { lists: [{ list_id: 'contactlist_1', title: 'VIP' }] });
      if (req.url === '/v1/list') return json(res, 200, { list_id: 'contactlist_2' });
      return json(res, 200, { not_modified: true });
    };
    await expect(client().upsertContact({ Email: 'a@x.com' })).resolves.toBe('person_9');
    await expect(client().listLists()).resolves.toEqual([{ listId: 'contactlist_1', title: 'VIP' }]);
    await expect(client().createList('New')).resolves.toBe('contactlist_2');
    await expect(client().addToList('contactlist_2', 'a+b@x.com')).resolves.toBeUndefined();
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /v1/contact',
      'GET /v1/lists',
      'POST /v1/list',
      'POST /v1/list/contactlist_2/contact/a%2Bb%40x.com',
    ]);
    expect(seen[2].body).toEqual({ name: 'New' });
  });

  it('removes a contact from a list with DELETE, not being a member included', async () => {
    handler = (_req, res) => json(res, 200, { not_modified: true });
    await expect(client().removeFromList('contactlist_2', 'person_1')).resolves.toBeUndefined();
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['DELETE /v1/list/contactlist_2/contact/person_1']);
  });

  it('classifies 401 as key-rejected, not retryable', async () => {
    handler = (_req, res) =>
      json(res, 401, { error: 'Unauthorized', message: 'Provided autopilotapikey not valid.' });
    const failure = await failureOf(client().getAccount());
    expect(failure).toMatchObject({
      failure: 'key-rejected',
      kind: 'upstream-rejected',
      status: 401,
      retryable: false,
    });
  });

  it("never repeats the key, even where Autopilot's message quotes it", async () => {
    handler = (_req, res) => json(res, 401, { message: `Provided autopilotapikey not valid: ${SECRET}` });
    const failure = await failureOf(client().getAccount());
    expect(failure.message).toBe('Autopilot rejected the API key (401): Provided autopilotapikey not valid: [redacted]');
  });

  it('never follows a redirect: a 3xx is an unavailable Autopilot and its target is never called', async () => {
    handler = (req, res) => {
      if (req.url === '/v1/account') return void res.writeHead(302, { location: '/v1/elsewhere' }).end();
      json(res, 200, {});
    };
    const failure = await failureOf(client().getAccount());
    expect(failure).toMatchObject({ failure: 'unavailable', status: 302 });
    expect(failure.message).toBe('Autopilot GET /account answered with a redirect (HTTP 302); redirects are not followed');
    expect(seen.map((s) => s.url)).toEqual(['/v1/account']);
  });

  it('classifies 429 as rate-limited with Retry-After when present', async () => {
    handler = (_req, res) =>
      json(res, 429, { error: 'Too Many Requests', message: 'slow down' }, { 'retry-after': '2' });
    const failure = await failureOf(client().bulkUpsert([{ Email: 'a@x.com' }]));
    expect(failure).toMatchObject({ failure: 'rate-limited', retryAfterMs: 2000, retryable: true });
    handler = (_req, res) => json(res, 429, { error: 'Too Many Requests' });
    expect((await failureOf(client().bulkUpsert([{ Email: 'a@x.com' }]))).retryAfterMs).toBeUndefined();
  });

  it("classifies 400 as bad-request with Autopilot's message", async () => {
    handler = (_req, res) => json(res, 400, { error: 'Bad Request', message: 'Email is invalid.' });
    const failure = await failureOf(client().bulkUpsert([{ Email: 'bad' }]));
    expect(failure).toMatchObject({ failure: 'bad-request', retryable: false });
    expect(failure.message).toContain('Email is invalid.');
  });

  it("keeps control characters (NUL among them) of Autopilot's message out of the error: it becomes a stored reason", async () => {
    handler = (_req, res) => json(res, 400, { error: 'Bad Request', message: 'Email\u0000 is\ninvalid.' });
    const failure = await failureOf(client().bulkUpsert([{ Email: 'bad' }]));
    expect(failure.message).toContain('Email? is?invalid.');
    expect(failure.message).not.toContain('\u0000');
  });

  it.each([
    [403, 'forbidden'],
    [404, 'not-found'],
    [413, 'too-large'],
    [409, 'refused'],
    [422, 'refused'],
  ])('classifies %i as %s: never a bad-request to bisect, never retried', async (status, failure) => {
    handler = (_req, res) => json(res, status, { error: 'x', message: `said ${status}` });
    const error = await failureOf(client().bulkUpsert([{ Email: 'a@x.com' }]));
    expect(error.failure).toBe(failure);
    expect(error.kind).toBe('upstream-rejected');
    expect(error.message).toContain(`said ${status}`);
  });

  it('classifies 5xx, timeouts and connection errors as unavailable (retryable)', async () => {
    handler = (_req, res) => json(res, 503, { error: 'Service Unavailable' });
    expect(await failureOf(client().getAccount())).toMatchObject({
      failure: 'unavailable',
      status: 503,
      retryable: true,
    });

    handler = () => undefined; // never answers
    const timedOut = await failureOf(client(100).getAccount());
    expect(timedOut).toMatchObject({ failure: 'unavailable', retryable: true });
    expect(timedOut.message).toContain('timed out');

    const refused = new AutopilotClient({ baseUrl: 'http://127.0.0.1:1/v1', apiKey: SECRET });
    expect(await failureOf(refused.getAccount())).toMatchObject({ failure: 'unavailable' });
  });

  it('treats an unexpected 200 body as unavailable', async () => {
    handler = (_req, res) => json(res, 200, { nope: true });
    expect(await failureOf(client().createList('x'))).toMatchObject({ failure: 'unavailable', status: 200 });
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('1.5')).toBe(1500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
