// Writes the JSON Schema of the public event next to the lib (run: npx nx run contracts:json-schema).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { segmentRefreshedJsonSchema, TOPICS } from '../src';

const file = join(__dirname, '..', 'schemas', `${TOPICS.segmentRefreshed.name}.schema.json`);
writeFileSync(file, JSON.stringify(segmentRefreshedJsonSchema(), null, 2) + '\n');
console.log(`wrote ${file}`);
