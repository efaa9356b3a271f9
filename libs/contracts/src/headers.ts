/** Kafka header names shared by every service. */
export const HEADERS = {
  correlationId: 'x-correlation-id',
  /** W3C trace context, carried as-is. */
  traceparent: 'traceparent',
  producer: 'x-producer',
} as const;
