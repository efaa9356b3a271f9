/**
 * The one error taxonomy of the system. Whether a failure is retried, how it answers over HTTP and which
 * dead-letter code it gets are properties of its kind, decided in one exhaustive switch each.
 */
export type ErrorKind =
  | 'validation' // bad input: never retried
  | 'not-found'
  | 'conflict'
  | 'unauthenticated'
  | 'forbidden'
  | 'upstream-rejected' // a third party refused the request for good (e.g. a 401 on an API key)
  | 'upstream-unavailable' // a third party or a dependency is down or slow: retried
  | 'contract-violation' // a message that does not match its schema: dead-lettered
  | 'internal';

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: { field?: string; code?: string; [key: string]: unknown } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }

  get retryable(): boolean {
    return isRetryableKind(this.kind);
  }
}

export function isRetryableKind(kind: ErrorKind): boolean {
  switch (kind) {
    case 'upstream-unavailable':
    case 'internal':
      return true;
    case 'validation':
    case 'not-found':
    case 'conflict':
    case 'unauthenticated':
    case 'forbidden':
    case 'upstream-rejected':
    case 'contract-violation':
      return false;
    default:
      return assertNever(kind);
  }
}

export function httpStatusOf(kind: ErrorKind): number {
  switch (kind) {
    case 'validation':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
      return 403;
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'upstream-rejected':
      return 422;
    case 'upstream-unavailable':
      return 502;
    case 'contract-violation':
    case 'internal':
      return 500;
    default:
      return assertNever(kind);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}

/**
 * Message of any thrown value, for logs and reasons. Always storable text (see storableText): reasons are
 * stored in PostgreSQL and travel in contracts that refuse NUL and unpaired surrogates.
 */
export function errorMessage(error: unknown): string {
  return storableText(error instanceof Error ? error.message : String(error));
}

// eslint-disable-next-line no-control-regex -- replacing NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `text` as PostgreSQL (text and jsonb) can store it: NUL characters and unpaired surrogates become U+FFFD;
 * with `maxLength`, cut to at most that many UTF-16 units without splitting a surrogate pair.
 */
export function storableText(text: string, maxLength?: number): string {
  let clean = text.replace(UNSTORABLE, '\uFFFD');
  if (maxLength !== undefined && clean.length > maxLength) {
    const last = clean.charCodeAt(maxLength - 1);
    clean = clean.slice(0, last >= 0xd800 && last <= 0xdbff ? maxLength - 1 : maxLength);
  }
  return clean;
}
