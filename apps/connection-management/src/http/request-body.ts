import { STATUS_CODES } from 'node:http';
import { HttpException, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

/** Largest JSON or form body the API reads (body-parser's default, made explicit). */
export const BODY_LIMIT = '100kb';

/**
 * Messages of the errors body-parser raises while reading a body. Its own would echo the request (a JSON
 * syntax error quotes the body, which may hold an API key): these never do.
 */
const MESSAGES = new Map<string, (error: { limit?: unknown }) => string>([
  [
    'entity.too.large',
    ({ limit }) =>
      typeof limit === 'number'
        ? `Request body is larger than the limit of ${limit} bytes`
        : 'Request body is larger than the limit',
  ],
  ['entity.parse.failed', () => 'Request body is not valid JSON'],
  ['charset.unsupported', () => 'Unsupported charset of the request body'],
  ['encoding.unsupported', () => 'Unsupported content encoding of the request body'],
  ['parameters.too.many', () => 'Too many parameters in the request body'],
  ['request.aborted', () => 'The request was aborted before its body was read'],
  ['request.size.invalid', () => 'The request body does not match its content length'],
]);

/**
 * The client error a body-parser error stands for (http-errors: a 4xx status marked `expose`), as an
 * HttpException with a fixed message; `undefined` for any other error, which stays unexpected.
 */
export function requestBodyError(error: unknown): HttpException | undefined {
  if (!(error instanceof Error)) return undefined;
  const { status, expose, type, limit } = error as Error & Record<string, unknown>;
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  const message = typeof type === 'string' ? MESSAGES.get(type)?.({ limit }) : undefined;
  return new HttpException(message ?? STATUS_CODES[status] ?? 'Bad Request', status);
}

/**
 * Reads JSON and form bodies up to BODY_LIMIT, and turns what goes wrong while reading one (too large,
 * not JSON, an unknown charset or encoding, a body that is not what its encoding claims) into a 4xx with the
 * API's error body instead of an unexpected 500. Nest then adds no parsers of its own (it skips those
 * already applied), so these are the app's only ones.
 */
export function useRequestBodyParsers(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.useBodyParser('json', { limit: BODY_LIMIT });
  express.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: true });
  express.use((error: unknown, _req: Request, _res: Response, next: NextFunction) =>
    next(requestBodyError(error) ?? error),
  );
}
