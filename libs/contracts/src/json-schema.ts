import { z } from 'zod';
import { TOPICS } from './topics';

/** JSON Schema (draft 2020-12) of the public event, for publishers that do not use TypeScript. */
export function segmentRefreshedJsonSchema(): Record<string, unknown> {
  return {
    $id: `https://schemas.segment-export.dev/${TOPICS.segmentRefreshed.name}.json`,
    title: TOPICS.segmentRefreshed.name,
    description: `Value of topic ${TOPICS.segmentRefreshed.name}; key ${TOPICS.segmentRefreshed.key}.`,
    ...z.toJSONSchema(TOPICS.segmentRefreshed.schema, { io: 'input', unrepresentable: 'any' }),
  };
}
