import { randomUUID } from 'node:crypto';
import { HEADERS } from '@export/contracts';
import { parseTraceparent, uuidOfTraceId } from '@export/kafka';
import { CORRELATION_HEADER } from '@export/logging';
import type { NextFunction, Request, Response } from 'express';

/**
 * Settles the request's correlation id before anything else runs (the caller's, when sane) and echoes it in
 * the response. pino-http then takes the same id from the header, so logs, responses and the Kafka messages a
 * request causes all carry one id. Without one, a caller's W3C traceparent gives it (its trace id spelt as a
 * UUID): the run's messages then carry that trace id (see traceIdOf in @export/kafka).
 */
export function correlationIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.headers[CORRELATION_HEADER];
  const traceparent = req.headers[HEADERS.traceparent];
  const trace = parseTraceparent(typeof traceparent === 'string' ? traceparent : undefined);
  const id =
    typeof given === 'string' && given.length > 0 && given.length <= 200
      ? given
      : trace
        ? uuidOfTraceId(trace.traceId)
        : randomUUID();
  req.headers[CORRELATION_HEADER] = id;
  res.setHeader(CORRELATION_HEADER, id);
  next();
}

export function correlationIdOf(req: Request): string {
  const id = req.headers[CORRELATION_HEADER];
  return typeof id === 'string' ? id : randomUUID();
}
