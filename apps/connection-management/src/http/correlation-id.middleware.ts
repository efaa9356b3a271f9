import { randomUUID } from 'node:crypto';
import { CORRELATION_HEADER } from '@export/logging';
import type { NextFunction, Request, Response } from 'express';

/**
 * Settles the request's correlation id before anything else runs (the caller's, when sane) and echoes it in
 * the response. pino-http then takes the same id from the header, so logs, responses and the Kafka messages a
 * request causes all carry one id.
 */
export function correlationIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.headers[CORRELATION_HEADER];
  const id = typeof given === 'string' && given.length > 0 && given.length <= 200 ? given : randomUUID();
  req.headers[CORRELATION_HEADER] = id;
  res.setHeader(CORRELATION_HEADER, id);
  next();
}

export function correlationIdOf(req: Request): string {
  const id = req.headers[CORRELATION_HEADER];
  return typeof id === 'string' ? id : randomUUID();
}
