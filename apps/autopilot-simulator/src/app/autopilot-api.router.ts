import express, { NextFunction, Request, Response, Router } from 'express';
import { ApiError, toErrorResponse } from './api-error';
import { parseBulkContactsBody, parseSingleContactBody, customFieldName, customFieldType } from './contact-schema';
import { StoredContact, bulkAnswerJson } from './contact-store';
import { PendingTimers } from './pending-timers';
import { RouteKey } from './simulator-switches';
import { SimulatorState } from './simulator-state';

/** An answer: `body` undefined sends an empty body; `json` is a body already written as JSON. */
export interface Reply {
  status: number;
  body?: unknown;
  json?: string;
}

interface Caller {
  apiKey: string;
  account: string;
  now: number;
}

type Handler = (caller: Caller, req: Request) => Reply;

interface RouteLocals {
  route: RouteKey | 'unmatched';
  caller?: Caller;
}

export interface AutopilotApiRouterOptions {
  /** largest accepted JSON body, in body-parser syntax */
  bodyLimit: string;
}

const ok = (body: unknown): Reply => ({ status: 200, body });

/**
 * The Autopilot REST API (to be mounted at the base path). Per request: authenticate, forced 429,
 * sliding-window limit, injected latency, body parsing, injected 503, the handler, then an optional
 * hang before the answer. Nothing is logged per request here: the benchmarks measure this path.
 */
export function createAutopilotApiRouter(
  state: SimulatorState,
  timers: PendingTimers,
  options: AutopilotApiRouterOptions,
): Router {
  const router = express.Router();
  const json = express.json({ limit: options.bodyLimit });
  const { store, faults } = state;

  const send = (res: Response, reply: Reply) => {
    const locals = res.locals as RouteLocals;
    state.recordResponse(locals.route, reply.status);
    if (res.destroyed || res.writableEnded) return;
    // res.json() sets this Content-Type, then sends the string: a `json` reply goes out byte for byte the same.
    if (reply.json !== undefined) res.status(reply.status).set('Content-Type', 'application/json').send(reply.json);
    else if (reply.body === undefined) res.status(reply.status).end();
    else res.status(reply.status).json(reply.body);
  };

  const sendError = (res: Response, error: ApiError, headers?: Record<string, string>) => {
    const { status, body } = toErrorResponse(error);
    if (headers) res.set(headers);
    send(res, { status, body });
  };

  const tooManyRequests = (res: Response, retryAfterMs: number) => {
    state.count('rateLimited');
    const rps = faults.current.rateLimitRps || 5;
    const error = new ApiError('too-many-requests', `You have exceeded your request rate of ${rps} r/s.`);
    const headers = faults.current.retryAfter
      ? { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }
      : undefined;
    sendError(res, error, headers);
  };

  const gate = (route: RouteKey) => (req: Request, res: Response, next: NextFunction) => {
    const locals = res.locals as RouteLocals;
    locals.route = route;
    const apiKey = req.headers['autopilotapikey'];
    if (typeof apiKey !== 'string' || apiKey === '') {
      state.count('missingKey');
      return sendError(res, new ApiError('bad-request', 'The autopilotapikey header is required.'));
    }
    const entry = state.keys.get(apiKey);
    if (!entry || entry.revoked || faults.isRevoked(apiKey)) {
      state.count('unauthorized');
      return sendError(res, new ApiError('unauthorized', 'Provided autopilotapikey not valid.'));
    }
    faults.noteAuthenticated(apiKey);
    const now = state.now();
    if (faults.force429(route)) {
      state.count('forced429');
      state.rateLimiter.recordRejected(apiKey, now);
      return tooManyRequests(res, 1000);
    }
    const decision = state.rateLimiter.tryAdmit(apiKey, now);
    if (!decision.admitted) return tooManyRequests(res, decision.retryAfterMs);
    locals.caller = { apiKey, account: entry.account, now };
    const latency = faults.latency(route);
    if (latency > 0) timers.delay(latency, next);
    else next();
  };

  const run = (route: RouteKey, handler: Handler) => (req: Request, res: Response) => {
    if (faults.fail503(route)) {
      state.count('injected503');
      return sendError(res, new ApiError('unavailable', 'The service is temporarily unavailable. Please retry.'));
    }
    const caller = (res.locals as RouteLocals).caller as Caller;
    let reply: Reply;
    try {
      reply = handler({ ...caller, now: state.now() }, req);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      reply = toErrorResponse(error);
    }
    const hangMs = faults.hang(route);
    if (hangMs === null) return send(res, reply);
    state.count('hung');
    timers.delay(hangMs, () => send(res, reply));
  };

  const route = (route: RouteKey, handler: Handler) => {
    const space = route.indexOf(' ');
    const method = route.slice(0, space).toLowerCase() as 'get' | 'post' | 'delete';
    const path = route.slice(space + 1);
    const stages = method === 'get' ? [gate(route), run(route, handler)] : [gate(route), json, run(route, handler)];
    router[method](path, ...stages);
  };

  const bulkOptions = {
    isRejected: (email: string) => faults.isBadEmail(email),
    isDropped: (email: string) => faults.isDroppedEmail(email),
  };

  route('GET /account', ({ account }) => ok({ account_id: account, name: account, simulated: true }));

  route('POST /contact', (caller, req) => {
    const contact = parseSingleContactBody(req.body);
    const contactId = store.upsertContact(caller.account, contact, caller, { isRejected: bulkOptions.isRejected });
    return ok({ contact_id: contactId });
  });

  route('POST /contacts', (caller, req) => {
    const contacts = parseBulkContactsBody(req.body);
    return { status: 200, json: bulkAnswerJson(store.upsertContacts(caller.account, contacts, caller, bulkOptions)) };
  });

  route('GET /contact/:contactIdOrEmail', ({ account }, req) => {
    const contact = store.findContact(account, param(req, 'contactIdOrEmail'));
    if (!contact) throw new ApiError('not-found', 'Contact could not be found.');
    return ok(renderContact(contact));
  });

  route('POST /contact/:contactIdOrEmail/unsubscribe', ({ account, now }, req) => {
    store.unsubscribe(account, param(req, 'contactIdOrEmail'), now);
    return ok({});
  });

  route('GET /contacts/custom_fields', ({ account }) =>
    ok(store.customFields(account).map(({ name, fieldType }) => ({ name, fieldType }))),
  );

  route('GET /lists', ({ account }) => ok({ lists: store.lists(account) }));

  route('POST /list', ({ account, now }, req) => {
    const name = (req.body as { name?: unknown } | undefined)?.name;
    return ok({ list_id: store.createList(account, name, faults.current.duplicateListMode, now) });
  });

  route('POST /list/:listId/contact/:contactIdOrEmail', ({ account, now }, req) => {
    const added = store.addToList(account, param(req, 'listId'), param(req, 'contactIdOrEmail'), now);
    return ok(added ? {} : { not_modified: true });
  });

  route('DELETE /list/:listId/contact/:contactIdOrEmail', ({ account, now }, req) => {
    const removed = store.removeFromList(account, param(req, 'listId'), param(req, 'contactIdOrEmail'), now);
    return ok(removed ? {} : { not_modified: true });
  });

  const listContacts: Handler = ({ account }, req) => {
    const bookmark = req.params['bookmark'] as string | undefined;
    const page = store.listPage(account, param(req, 'listId'), bookmark);
    return ok({
      contacts: page.contacts.map(renderContact),
      total_contacts: page.total,
      ...(page.bookmark !== undefined ? { bookmark: page.bookmark } : {}),
    });
  };
  route('GET /list/:listId/contacts', listContacts);
  route('GET /list/:listId/contacts/:bookmark', listContacts);

  // Some Autopilot 404s have an empty body; unknown routes answer that way.
  router.use((_req: Request, res: Response) => {
    (res.locals as RouteLocals).route = 'unmatched';
    send(res, { status: 404 });
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const locals = res.locals as RouteLocals;
    locals.route ??= 'unmatched';
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendError(res, new ApiError('bad-request', 'The body is not valid JSON.'));
    if (type === 'entity.too.large') return sendError(res, new ApiError('payload-too-large', 'The body is too large.'));
    next(error);
  });

  return router;
}

function param(req: Request, name: string): string {
  return req.params[name] as string;
}

/** A contact as Autopilot's read calls show it: standard fields, `custom_fields`, lists, flags. */
export function renderContact(contact: StoredContact): Record<string, unknown> {
  return {
    ...contact.fields,
    contact_id: contact.contactId,
    custom_fields: Object.entries(contact.custom).map(([key, value]) => ({
      kind: customFieldName(key),
      fieldType: customFieldType(key),
      value,
    })),
    lists: [...contact.lists],
    unsubscribed: contact.unsubscribed,
    created_at: new Date(contact.createdAt).toISOString(),
    updated_at: new Date(contact.updatedAt).toISOString(),
  };
}
