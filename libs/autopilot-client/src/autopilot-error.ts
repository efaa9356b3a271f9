import { AppError, assertNever, type ErrorKind } from '@export/errors';

/** How an Autopilot call failed; decided once, from the HTTP status (or the lack of one). */
export type AutopilotFailure = 'key-rejected' | 'rate-limited' | 'bad-request' | 'unavailable';

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
