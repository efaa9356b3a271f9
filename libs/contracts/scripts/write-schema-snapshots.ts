// Writes schemas/<topic>.schema.json for every topic of the registry: the published snapshots that
// src/compatibility.spec.ts compares the zod schemas against (run: npx nx run contracts:schema-snapshots).
// Run it only for compatible changes (the test says which); a breaking change is a new topic version.
// It refuses to overwrite a snapshot with a breaking change (deliberate tightenings are recorded in
// ALLOWED_TIGHTENINGS of src/schema-compatibility.ts, with their reason).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TOPICS } from '../src/topics';
import { breakingChanges, topicJsonSchema, type JsonSchema } from '../src/schema-compatibility';

let refused = 0;
for (const topic of ALL_TOPICS) {
  const file = join(__dirname, '..', 'schemas', `${topic.name}.schema.json`);
  const current = topicJsonSchema(topic);
  if (existsSync(file)) {
    const breaking = breakingChanges(JSON.parse(readFileSync(file, 'utf8')) as JsonSchema, current);
    if (breaking.length) {
      refused++;
      console.error(`not written: ${topic.name} changed incompatibly:\n  ${breaking.map((c) => `${c.path}: ${c.message}`).join('\n  ')}`);
      continue;
    }
  }
  writeFileSync(file, JSON.stringify(current, null, 2) + '\n');
  console.log(`wrote ${file}`);
}
if (refused) process.exit(1);
