import express, { NextFunction, Request, Response, Router } from 'express';
import { Logger } from 'pino';
import { ApiError, toErrorResponse } from './api-error';
import { StoredContact } from './contact-store';
import { SimulatorState } from './simulator-state';

/**
 * The control and inspection API, mounted at `/__sim`. No authentication: the simulator listens on
 * loopback and exists for tests, demos and benchmarks.
 */
export function createControlApiRouter(state: SimulatorState, logger: Logger): Router {
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));

  router.get('/health', (_req, res) => {
    res.json({ ok: true });
  });

  router.get('/stats', (_req, res) => {
    res.json(state.stats());
  });

  router.get('/keys', (_req, res) => {
    res.json({ keys: state.keys.list() });
  });

  router.post('/keys', (req, res) => {
    const body = (req.body ?? {}) as { key?: unknown; account?: unknown };
    if (typeof body.key !== 'string' || body.key === '') throw new ApiError('bad-request', '"key" must be a non-empty string.');
    if (body.account !== undefined && typeof body.account !== 'string') {
      throw new ApiError('bad-request', '"account" must be a string when given.');
    }
    const entry = state.keys.add(body.key, body.account);
    logger.info({ account: entry.account }, 'simulator key added');
    res.status(201).json(entry);
  });

  router.delete('/keys/:key', (req, res) => {
    const key = req.params['key'] as string;
    if (!state.keys.revoke(key)) throw new ApiError('not-found', `Unknown key.`);
    logger.info('simulator key revoked');
    res.json(state.keys.get(key));
  });

  router.get('/faults', (_req, res) => {
    res.json(state.faults.view());
  });

  router.put('/faults', (req, res) => {
    const view = state.replaceSwitches(req.body);
    logger.info({ switches: view.switches }, 'simulator switches replaced');
    res.json(view);
  });

  router.patch('/faults', (req, res) => {
    const view = state.patchSwitches(req.body);
    logger.info({ switches: view.switches }, 'simulator switches changed');
    res.json(view);
  });

  router.get('/contacts', (req, res) => {
    const email = typeof req.query['email'] === 'string' ? req.query['email'] : undefined;
    const account = typeof req.query['account'] === 'string' ? req.query['account'] : undefined;
    const offset = nonNegative(req.query['offset'], 0);
    const limit = nonNegative(req.query['limit'], Number.MAX_SAFE_INTEGER);
    const contacts = email !== undefined ? state.store.contactsByEmail(email, account) : state.store.allContacts(account);
    res.json({ count: contacts.length, contacts: contacts.slice(offset, offset + limit).map(inspectContact) });
  });

  router.get('/lists', (_req, res) => {
    res.json({ lists: state.store.listSummaries() });
  });

  router.get('/lists/:listId/members', (req, res) => {
    const list = state.store.listMembers(req.params['listId'] as string);
    if (!list) throw new ApiError('not-found', 'List could not be found.');
    res.json({
      account: list.account,
      list_id: list.list_id,
      title: list.title,
      count: list.members.length,
      members: list.members.map((contact) => ({ contact_id: contact.contactId, email: contact.emailKey })),
    });
  });

  router.post('/reset', (_req, res) => {
    state.reset();
    logger.info('simulator reset');
    res.json({ reset: true });
  });

  router.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'Not Found', message: 'Unknown control route.' });
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (error instanceof ApiError) {
      const { status, body } = toErrorResponse(error);
      return res.status(status).json(body);
    }
    if ((error as { type?: string }).type === 'entity.parse.failed') {
      return res.status(400).json({ error: 'Bad Request', message: 'The body is not valid JSON.' });
    }
    next(error);
  });

  return router;
}

function nonNegative(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new ApiError('bad-request', 'offset and limit must be non-negative integers.');
  return parsed;
}

/** A contact with everything the simulator stores, for assertions. */
export function inspectContact(contact: StoredContact): Record<string, unknown> {
  return {
    contact_id: contact.contactId,
    account: contact.account,
    email: contact.emailKey,
    fields: contact.fields,
    custom: contact.custom,
    lists: [...contact.lists],
    unsubscribed: contact.unsubscribed,
    upserts: contact.upserts,
    created_at: new Date(contact.createdAt).toISOString(),
    updated_at: new Date(contact.updatedAt).toISOString(),
  };
}
