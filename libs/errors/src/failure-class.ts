import { AppError, isRetryableKind } from './app-error';

/**
 * What a failure of a message's processing means for that message:
 * - `permanent`: it can never succeed (bad input, a value the database refuses, a message too large):
 *   dead-lettered at once, the partition goes on;
 * - `transient`: it may pass on retry (a deadlock, a timeout, a bug): retried with backoff up to a bound of
 *   attempts and time, then dead-lettered;
 * - `outage`: a dependency is down (database, broker, control plane): not the message's fault; consumption
 *   pauses and the message is retried without spending its bound, so nothing is lost.
 */
export type FailureClass = 'permanent' | 'transient' | 'outage';

// SQLSTATE classes: 22 data exception (NUL bytes, too long, bad dates), 23 integrity constraint violation,
// 42 syntax error or access rule violation (a bug in a query: retrying repeats it).
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '42']);
// 08 connection exception, 53 insufficient resources, 57P01-57P03 shutdown / cannot connect now.
const OUTAGE_SQLSTATE = (code: string) => code.startsWith('08') || code.startsWith('53') || /^57P0[1-3]$/.test(code);
const OUTAGE_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
const OUTAGE_KAFKA_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
]);
const PERMANENT_KAFKA_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isSqlState(code: string | undefined): code is string {
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code);
}

/** Classifies any thrown value (see FailureClass). Pure: looks only at the error's class, name and code. */
export function failureClass(error: unknown): FailureClass {
  if (error instanceof AppError) {
    if (error.kind === 'upstream-unavailable') return 'outage';
    return isRetryableKind(error.kind) ? 'transient' : 'permanent';
  }
  if (error instanceof RangeError || error instanceof SyntaxError) return 'permanent';
  if (!(error instanceof Error)) return 'transient';
  const code = codeOf(error);
  const type = (error as { type?: unknown }).type;
  if (typeof type === 'string' && PERMANENT_KAFKA_TYPES.has(type)) return 'permanent';
  if (OUTAGE_KAFKA_ERRORS.has(error.name)) return 'outage';
  if (code && OUTAGE_SYSCALL_CODES.has(code)) return 'outage';
  if (isSqlState(code)) {
    if (PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) return 'permanent';
    if (OUTAGE_SQLSTATE(code)) return 'outage';
    return 'transient';
  }
  // node-postgres's pool, when no connection can be had in time.
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(error.message)) return 'outage';
  return 'transient';
}

/** A short code naming a failure, for dead letters and run failures. */
export function failureCode(error: unknown): string {
  if (error instanceof AppError) {
    const code = error.details.code;
    // Only a sane code travels (it ends up in topics, metrics labels and UIs); else the generic one.
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code)) return code;
    return error.retryable ? 'RETRIES_EXHAUSTED' : 'NON_RETRYABLE';
  }
  if (error instanceof RangeError) return 'RANGE_ERROR';
  if (error instanceof SyntaxError) return 'SYNTAX_ERROR';
  const type = (error as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && PERMANENT_KAFKA_TYPES.has(type)) return type;
  const code = codeOf(error);
  if (isSqlState(code)) return `SQLSTATE_${code}`;
  return 'HANDLER_FAILED';
}
