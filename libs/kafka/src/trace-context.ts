import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as carried in the `traceparent` Kafka header:
 * `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`. Only the header format is implemented here
 * (no span export): every produced message continues the trace of the message being handled, or the trace
 * of its run, so a tracing backend or a log search can follow one run through every service.
 */
export interface TraceContext {
  traceId: string;
  spanId: string;
  /** Trace flags, two hex digits ("01" = sampled). */
  flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The trace context of a header value, or undefined when it is absent or malformed (then a new trace starts). */
export function parseTraceparent(value: string | undefined | null): TraceContext | undefined {
  if (!value) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  // Version ff is invalid; version 00 has exactly four fields; later versions may append fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

/** A new span of the same trace (same trace id and flags, new span id). */
export function childSpan(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: newSpanId(), flags: parent.flags };
}

/** A new sampled root span; its trace id is the one of `correlationId` when given (see traceIdOf). */
export function rootSpan(correlationId?: string): TraceContext {
  return { traceId: correlationId ? traceIdOf(correlationId) : newTraceId(), spanId: newSpanId(), flags: '01' };
}

/**
 * The trace id a run's correlation id stands for: the UUID's own 128 bits when it is a UUID (so searching
 * logs by correlation id and traces by trace id is one search), a hash of it otherwise. Work that leaves the
 * handler of a message (the control plane's outbox, the delivery's sender loop) carries only the correlation
 * id; deriving the trace id from it keeps all of a run's messages in one trace.
 */
export function traceIdOf(correlationId: string): string {
  const hex = UUID.test(correlationId)
    ? correlationId.replace(/-/g, '').toLowerCase()
    : createHash('sha256').update(correlationId).digest('hex').slice(0, 32);
  return hex === ZERO_TRACE ? newTraceId() : hex;
}

/** The UUID spelling of a trace id, for a correlation id that starts from a caller's traceparent. */
export function uuidOfTraceId(traceId: string): string {
  return `${traceId.slice(0, 8)}-${traceId.slice(8, 12)}-${traceId.slice(12, 16)}-${traceId.slice(16, 20)}-${traceId.slice(20)}`;
}

function newSpanId(): string {
  let id = ZERO_SPAN;
  while (id === ZERO_SPAN) id = randomBytes(8).toString('hex');
  return id;
}

function newTraceId(): string {
  let id = ZERO_TRACE;
  while (id === ZERO_TRACE) id = randomBytes(16).toString('hex');
  return id;
}

/** What a message handler runs in: the span of the consumed message and the correlation id it carried. */
export interface MessageScope {
  trace: TraceContext;
  correlationId: string;
}

const scopes = new AsyncLocalStorage<MessageScope>();

/** Runs `fn` (and everything it starts) in the scope of a consumed message. */
export function runInMessageScope<T>(scope: MessageScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The scope of the message being handled by the calling code, if any. */
export function currentMessageScope(): MessageScope | undefined {
  return scopes.getStore();
}

/**
 * The traceparent of a message about to be produced: a child of an explicit one; else, within a handler
 * whose message has the same correlation id, a child of that message's span; else a root span of the
 * correlation id's trace; else a new trace.
 */
export function outgoingTraceparent(context: { correlationId?: string; traceparent?: string }): string {
  const explicit = parseTraceparent(context.traceparent);
  if (explicit) return formatTraceparent(childSpan(explicit));
  const scope = currentMessageScope();
  if (scope && (context.correlationId === undefined || context.correlationId === scope.correlationId)) {
    return formatTraceparent(childSpan(scope.trace));
  }
  return formatTraceparent(rootSpan(context.correlationId));
}
