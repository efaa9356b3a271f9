import { topicByName } from '@export/contracts';
import { z } from 'zod';

const compiled = new Map<string, z.ZodType>();

/**
 * The schema of a topic, compiled once per process (`z.compile`: the same results and the same issues as the
 * contract's schema, through generated code that checks a whole message without walking the schema node by
 * node; a message that fails is parsed again by the schema itself for its issues). Every message a consumer
 * takes and every message a publisher sends is parsed with it: a 100,000-row run is 200 batches each way.
 * Undefined for a topic no contract names.
 */
export function topicSchema(topic: string): z.ZodType | undefined {
  let schema = compiled.get(topic);
  if (!schema) {
    const definition = topicByName(topic);
    if (!definition) return undefined;
    schema = z.compile(definition.schema);
    compiled.set(topic, schema);
  }
  return schema;
}
