import { AppError, assertNever, type ErrorKind } from '@export/errors';

/**
 * How an Autopilot call failed; decided once, from the HTTP status (or the lack of one). Each class has
 * one meaning for the caller:
 * - `bad-request` (400): something in the request is wrong: a bulk call is split to find the record at fault;
 * - `too-large` (413): the request is too big: split by bytes, a contact fails only when it alone is too big;
 * - `not-found` (404): what the path names is gone (a deleted list): look it up again, once;
 * - `forbidden` (403): the key may not do this: the run fails, nothing is split or retried;
 * - `refused` (other 4xx): not fixed by sending the same request again, nor by splitting it;
 * - `key-rejected` (401), `rate-limited` (429), `unavailable` (5xx, 408, timeouts, connection errors).
 */
export type AutopilotFailure =
  | 'key-rejected'
  | 'rate-limited'
  | 'bad-request'
  | 'too-large'
  | 'not-found'
  | 'forbidden'
  | 'refused'
  | 'unavailable';

export interface AutopilotErrorDetails {
  /** HTTP status, absent for timeouts and connection errors. */
  status?: number;
  /** From `Retry-After` on a 429, when Autopilot sent one. */
  retryAfterMs?: number;
}

/**
 * A failed Autopilot call. Carries no request data (no headers, no body): the API key travels in a header
 * and must never reach a message, a log or an event. Retried: `rate-limited` and `unavailable`.
 */
export class AutopilotError extends AppError {
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly failure: AutopilotFailure,
    message: string,
    details: AutopilotErrorDetails = {},
  ) {
    super(appErrorKind(failure), message, { code: failure, ...details });
    this.name = 'AutopilotError';
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

export function appErrorKind(failure: AutopilotFailure): ErrorKind {
  switch (failure) {
    case 'key-rejected':
    case 'bad-request':
    case 'too-large':
    case 'not-found':
    case 'forbidden':
    case 'refused':
      return 'upstream-rejected';
    case 'rate-limited':
    case 'unavailable':
      return 'upstream-unavailable';
    default:
      return assertNever(failure);
  }
}

export function isAutopilotFailure(error: unknown, failure: AutopilotFailure): error is AutopilotError {
  return error instanceof AutopilotError && error.failure === failure;
}
