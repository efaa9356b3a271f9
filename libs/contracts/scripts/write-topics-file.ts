// Writes tools/kafka/topics.txt ("<name> <partitions> <replication> [key=value ...]" per line) from the topic registry, so the local
// broker is created with exactly the topics the contracts declare (run: npx nx run contracts:topics-file).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicsFileContent } from '../src/topics-file';

const file = join(__dirname, '..', '..', '..', 'tools', 'kafka', 'topics.txt');
writeFileSync(file, topicsFileContent());
console.log(`wrote ${file}`);
