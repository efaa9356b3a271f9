// Adds up the totals written by summary-reporter.js and prints the closing line of the test run.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const r = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
}
const extra = Number(process.argv[3] ?? 0); // failed steps that are not Jest tests (build, lint, typecheck)
console.log(`${passed} passed, ${failed + extra} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed + extra > 0 || passed === 0 ? 1 : 0;
