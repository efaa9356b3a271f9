// Writes schemas/<topic>.schema.json for every topic of the registry: the published snapshots that
// src/compatibility.spec.ts compares the zod schemas against (run: npx nx run contracts:schema-snapshots).
// Run it only for compatible changes (the test says which); a breaking change is a new topic version.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TOPICS } from '../src/topics';
import { topicJsonSchema } from '../src/schema-compatibility';

for (const topic of ALL_TOPICS) {
  const file = join(__dirname, '..', 'schemas', `${topic.name}.schema.json`);
  writeFileSync(file, JSON.stringify(topicJsonSchema(topic), null, 2) + '\n');
  console.log(`wrote ${file}`);
}
