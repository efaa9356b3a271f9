import { errorMessage } from '@export/errors';
import type { IHeaders } from 'kafkajs';
import { topicSchema } from './topic-schema';

export type ParsedMessage = { ok: true; value: unknown } | { ok: false; code: string; reason: string };

/**
 * The edge of every consumer: a message's value parsed with its topic's schema, or why not (the code and
 * reason of its dead letter: UNKNOWN_TOPIC, EMPTY_VALUE, INVALID_JSON, SCHEMA_MISMATCH).
 */
export function parseMessage(topic: string, raw: string | null): ParsedMessage {
  const schema = topicSchema(topic);
  if (!schema) return { ok: false, code: 'UNKNOWN_TOPIC', reason: `no schema is registered for topic ${topic}` };
  if (raw === null) return { ok: false, code: 'EMPTY_VALUE', reason: 'message has no value' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, code: 'INVALID_JSON', reason: `value is not valid JSON: ${errorMessage(error)}` };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, code: 'SCHEMA_MISMATCH', reason: `value does not match ${topic}: ${issues}` };
  }
  return { ok: true, value: result.data };
}

/** Kafka headers as strings (the first value of a repeated one). */
export function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return out;
}
