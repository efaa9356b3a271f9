import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import { storableText } from '@export/errors';
import { AutopilotError, type AutopilotFailure } from './autopilot-error';

/** The most contacts Autopilot takes in one bulk upsert. */
export const MAX_BULK_CONTACTS = 100;

export interface AutopilotClientOptions {
  /** e.g. `https://api2.autopilothq.com/v1` (no trailing slash needed). */
  baseUrl: string;
  apiKey: string;
  /** Per request; default 10 s. A timed-out upsert may still have been applied: upserts are safe to retry. */
  timeoutMs?: number;
}

/** A contact as sent: PascalCase standard fields, `custom`, `_autopilot_list`, `notify`, ... */
export type AutopilotContactInput = { Email: string } & Record<string, unknown>;

export interface BulkUpsertResult {
  contactIds: string[];
  /** Lower-cased e-mail -> contact id: an input e-mail missing here did not land. */
  emailContactMap: Map<string, string>;
}

export interface AutopilotList {
  listId: string;
  title: string;
}

const ErrorBody = z.object({ error: z.string().optional(), message: z.string().optional() }).passthrough();
const AccountBody = z.object({}).passthrough();
const ContactIdBody = z.object({ contact_id: z.string() });
const ListsBody = z.object({ lists: z.array(z.object({ list_id: z.string(), title: z.string() })) });
const ListIdBody = z.object({ list_id: z.string() });

/** What an answer's body is checked against: a zod schema, or a cheaper hand-written check for the hot path. */
type BodyCheck<T> = (body: unknown) => { success: true; data: T } | { success: false };

const zodCheck =
  <T>(schema: z.ZodType<T>): BodyCheck<T> =>
  (body) =>
    schema.safeParse(body);

/**
 * The bulk answer, checked by hand: it comes back 1,000 times per 100,000 contacts, and zod's walk over its
 * 200 strings cost more than the rest of the client's work. Missing fields read as empty, as before.
 */
const checkBulkBody: BodyCheck<{ contact_ids: string[]; email_contact_map: Record<string, string> }> = (
  body,
) => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { success: false };
  const { contact_ids: ids = [], email_contact_map: map = {} } = body as Record<string, unknown>;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) return { success: false };
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return { success: false };
  for (const id of Object.values(map)) if (typeof id !== 'string') return { success: false };
  return { success: true, data: { contact_ids: ids, email_contact_map: map as Record<string, string> } };
};

/**
 * One keep-alive connection pool per process (undici, Node's own HTTP client project): a bulk sync makes
 * thousands of calls to one host. It never follows a redirect: a redirect could carry the key to a host nobody
 * checked (see statusError).
 */
const agent = new Agent({ connections: 64 });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON; the raw text when it is not JSON ('' for an empty body). */
  data: unknown;
}

/**
 * A small typed client of the classic Autopilot REST API. Every failure is an AutopilotError classified
 * by status; raw transport errors never leave this class (only their code does), so the key header cannot.
 */
export class AutopilotClient {
  private readonly origin: string;
  private readonly basePath: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: AutopilotClientOptions) {
    const base = new URL(options.baseUrl.replace(/\/+$/, ''));
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.headers = { autopilotapikey: options.apiKey, 'content-type': 'application/json' };
  }

  /** Resolves when the key works (200); a wrong or revoked key rejects with failure `key-rejected`. */
  async getAccount(): Promise<Record<string, unknown>> {
    return this.call('GET /account', 'GET', '/account', undefined, zodCheck(AccountBody));
  }

  /** Upserts one contact (keyed by Email) and returns its contact id. */
  async upsertContact(contact: AutopilotContactInput): Promise<string> {
    const body = await this.call(
      'POST /contact',
      'POST',
      '/contact',
      { contact: clean(contact) },
      zodCheck(ContactIdBody),
    );
    return body.contact_id;
  }

  /**
   * Upserts at most 100 contacts in one call. Throws (before any request) on more than 100 or on two
   * variants of one e-mail, since the response map could not tell them apart.
   */
  async bulkUpsert(contacts: AutopilotContactInput[]): Promise<BulkUpsertResult> {
    if (contacts.length > MAX_BULK_CONTACTS) {
      throw new RangeError(
        `A bulk upsert takes at most ${MAX_BULK_CONTACTS} contacts, got ${contacts.length}`,
      );
    }
    const seen = new Set<string>();
    for (const contact of contacts) {
      const email = normaliseEmail(contact.Email);
      if (seen.has(email)) throw new RangeError(`Duplicate e-mail in one bulk upsert: ${email}`);
      seen.add(email);
    }
    const body = await this.call(
      'POST /contacts',
      'POST',
      '/contacts',
      { contacts: contacts.map(clean) },
      checkBulkBody,
    );
    const emailContactMap = new Map<string, string>();
    for (const [email, id] of Object.entries(body.email_contact_map))
      emailContactMap.set(normaliseEmail(email), id);
    return { contactIds: body.contact_ids, emailContactMap };
  }

  async listLists(): Promise<AutopilotList[]> {
    const body = await this.call('GET /lists', 'GET', '/lists', undefined, zodCheck(ListsBody));
    return body.lists.map((l) => ({ listId: l.list_id, title: l.title }));
  }

  async createList(name: string): Promise<string> {
    const body = await this.call('POST /list', 'POST', '/list', { name }, zodCheck(ListIdBody));
    return body.list_id;
  }

  /** Adds a contact (id or e-mail) to a list; already being a member is not an error. */
  async addToList(listId: string, contactIdOrEmail: string): Promise<void> {
    const path = `/list/${encodeURIComponent(listId)}/contact/${encodeURIComponent(contactIdOrEmail)}`;
    await this.call('POST /list/:id/contact/:email', 'POST', path, undefined, acceptAny);
  }

  /**
   * Removes a contact (id or e-mail) from a list, never deleting or unsubscribing it; not being a member is not
   * an error (`not_modified`).
   */
  async removeFromList(listId: string, contactIdOrEmail: string): Promise<void> {
    const path = `/list/${encodeURIComponent(listId)}/contact/${encodeURIComponent(contactIdOrEmail)}`;
    await this.call('DELETE /list/:id/contact/:id', 'DELETE', path, undefined, acceptAny);
  }

  private async call<T>(
    route: string,
    method: Dispatcher.HttpMethod,
    path: string,
    body: unknown,
    check: BodyCheck<T>,
  ): Promise<T> {
    const response = await this.send(route, method, path, body);
    const { status } = response;
    if (status >= 200 && status < 300) {
      const parsed = check(response.data ?? {});
      if (!parsed.success) {
        throw new AutopilotError(
          'unavailable',
          `Autopilot ${route} answered ${status} with an unexpected body`,
          { status },
        );
      }
      return parsed.data;
    }
    throw statusError(route, response, this.apiKey);
  }

  /** One request; the timeout covers the whole of it, answer body included. */
  private async send(
    route: string,
    method: Dispatcher.HttpMethod,
    path: string,
    body: unknown,
  ): Promise<Answer> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const response = await agent.request({
        origin: this.origin,
        path: this.basePath + path,
        method,
        headers: this.headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, data: parseJson(text) };
    } catch (error) {
      throw transportError(route, error, timedOut);
    } finally {
      clearTimeout(timer);
    }
  }
}

const acceptAny: BodyCheck<unknown> = (body) => ({ success: true, data: body });

/** JSON when the body is JSON, its text otherwise (a non-JSON answer then fails the body check). */
function parseJson(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Lower-cased and trimmed: how Autopilot and the ledger compare e-mails. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** `unsubscribed: false` would resubscribe someone who unsubscribed: it is never sent. */
function clean(contact: AutopilotContactInput): AutopilotContactInput {
  if (contact['unsubscribed'] !== false) return contact;
  const { unsubscribed: _dropped, ...rest } = contact;
  return rest as AutopilotContactInput;
}

function statusError(route: string, response: Answer, apiKey: string): AutopilotError {
  const { status } = response;
  const body = ErrorBody.safeParse(response.data);
  // Never echo the key back, even where Autopilot's message quotes it.
  const said = body.success
    ? (body.data.message ?? body.data.error)?.split(apiKey).join('[redacted]')
    : undefined;
  // Autopilot's words end up in stored reasons: control characters (NUL, which PostgreSQL refuses) become `?`.
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  const detail = said ? `: ${storableText(said.replace(/[\u0000-\u001f\u007f]/g, '?'), 500)}` : '';
  if (status === 401)
    return new AutopilotError('key-rejected', `Autopilot rejected the API key (401)${detail}`, { status });
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    return new AutopilotError('rate-limited', `Autopilot ${route} was rate limited (429)${detail}`, {
      status,
      retryAfterMs,
    });
  }
  if (status === 400)
    return new AutopilotError('bad-request', `Autopilot ${route} refused the request (400)${detail}`, {
      status,
    });
  if (status >= 300 && status < 400) {
    return new AutopilotError(
      'unavailable',
      `Autopilot ${route} answered with a redirect (HTTP ${status}); redirects are not followed`,
      {
        status,
      },
    );
  }
  if (status >= 500 || status === 408) {
    return new AutopilotError('unavailable', `Autopilot ${route} is unavailable (${status})${detail}`, {
      status,
    });
  }
  const failure = CLIENT_ERROR_CLASSES[status] ?? 'refused';
  return new AutopilotError(failure, `Autopilot ${route} answered ${status}${detail}`, { status });
}

/** 4xx answers other than 400/401/429 that mean something of their own (see AutopilotFailure). */
const CLIENT_ERROR_CLASSES: Record<number, AutopilotFailure> = {
  403: 'forbidden',
  404: 'not-found',
  413: 'too-large',
};

function transportError(route: string, error: unknown, timedOut: boolean): AutopilotError {
  // Only the code is kept: nothing of the request (its key header) may travel on.
  const code = errorCode(error);
  timedOut ||= TIMEOUT_CODES.has(code);
  return new AutopilotError(
    'unavailable',
    `Autopilot ${route} ${timedOut ? 'timed out' : `failed to connect (${code})`}`,
  );
}

/** undici's own timeouts (connecting, or a phase of the answer) mean the same as ours. */
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function errorCode(error: unknown): string {
  const code =
    (error as { code?: unknown } | null)?.code ??
    (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' ? code : 'ERR_NETWORK';
}

/** Retry-After is whole seconds or an HTTP date. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
