import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
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
const BulkBody = z.object({
  contact_ids: z.array(z.string()).default([]),
  email_contact_map: z.record(z.string(), z.string()).default({}),
});
const ListsBody = z.object({ lists: z.array(z.object({ list_id: z.string(), title: z.string() })) });
const ListIdBody = z.object({ list_id: z.string() });

// One keep-alive agent per process: a bulk sync makes thousands of calls to one host.
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

/**
 * A small typed client of the classic Autopilot REST API. Every failure is an AutopilotError classified
 * by status; raw axios errors (which carry the request headers, hence the key) never leave this class.
 */
export class AutopilotClient {
  private readonly http: AxiosInstance;

  constructor(options: AutopilotClientOptions) {
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs ?? 10_000,
      headers: { autopilotapikey: options.apiKey, 'Content-Type': 'application/json' },
      // Statuses are classified here, not thrown by axios.
      validateStatus: () => true,
      maxRedirects: 0,
      httpAgent,
      httpsAgent,
    });
  }

  /** Resolves when the key works (200); a wrong or revoked key rejects with failure `key-rejected`. */
  async getAccount(): Promise<Record<string, unknown>> {
    return this.call('GET /account', () => this.http.get('/account'), AccountBody);
  }

  /** Upserts one contact (keyed by Email) and returns its contact id. */
  async upsertContact(contact: AutopilotContactInput): Promise<string> {
    const body = await this.call(
      'POST /contact',
      () => this.http.post('/contact', { contact: clean(contact) }),
      ContactIdBody,
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
      () => this.http.post('/contacts', { contacts: contacts.map(clean) }),
      BulkBody,
    );
    const emailContactMap = new Map<string, string>();
    for (const [email, id] of Object.entries(body.email_contact_map))
      emailContactMap.set(normaliseEmail(email), id);
    return { contactIds: body.contact_ids, emailContactMap };
  }

  async listLists(): Promise<AutopilotList[]> {
    const body = await this.call('GET /lists', () => this.http.get('/lists'), ListsBody);
    return body.lists.map((l) => ({ listId: l.list_id, title: l.title }));
  }

  async createList(name: string): Promise<string> {
    const body = await this.call('POST /list', () => this.http.post('/list', { name }), ListIdBody);
    return body.list_id;
  }

  /** Adds a contact (id or e-mail) to a list; already being a member is not an error. */
  async addToList(listId: string, contactIdOrEmail: string): Promise<void> {
    const path = `/list/${encodeURIComponent(listId)}/contact/${encodeURIComponent(contactIdOrEmail)}`;
    await this.call('POST /list/:id/contact/:email', () => this.http.post(path), z.unknown());
  }

  /**
   * Removes a contact (id or e-mail) from a list, never deleting or unsubscribing it; not being a member is not
   * an error (`not_modified`).
   */
  async removeFromList(listId: string, contactIdOrEmail: string): Promise<void> {
    const path = `/list/${encodeURIComponent(listId)}/contact/${encodeURIComponent(contactIdOrEmail)}`;
    await this.call('DELETE /list/:id/contact/:id', () => this.http.delete(path), z.unknown());
  }

  private async call<T>(route: string, send: () => Promise<AxiosResponse>, schema: z.ZodType<T>): Promise<T> {
    let response: AxiosResponse;
    try {
      response = await send();
    } catch (error) {
      throw transportError(route, error);
    }
    const { status } = response;
    if (status >= 200 && status < 300) {
      const parsed = schema.safeParse(response.data ?? {});
      if (!parsed.success) {
        throw new AutopilotError(
          'unavailable',
          `Autopilot ${route} answered ${status} with an unexpected body`,
          { status },
        );
      }
      return parsed.data;
    }
    throw statusError(route, response);
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

function statusError(route: string, response: AxiosResponse): AutopilotError {
  const { status } = response;
  const body = ErrorBody.safeParse(response.data);
  const said = body.success ? (body.data.message ?? body.data.error) : undefined;
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

function transportError(route: string, error: unknown): AutopilotError {
  // Only the code is kept: axios errors carry the request config, including the key header.
  const code = axios.isAxiosError(error) ? (error.code ?? 'ERR_NETWORK') : 'ERR_UNKNOWN';
  const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
  return new AutopilotError(
    'unavailable',
    `Autopilot ${route} ${timedOut ? 'timed out' : `failed to connect (${code})`}`,
  );
}

/** Retry-After is whole seconds or an HTTP date. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
