// Prints the console's first-load JavaScript (what index.html loads before any lazy chunk), raw and gzipped,
// and saves the figures to bench/results/console-bundle.json. Target: under 250 KB gzipped.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = 'dist/apps/console';
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/([^"]+\.js)"/g)].map((m) => m[1]);
const files = scripts.map((file) => {
  const bytes = readFileSync(join(dist, file));
  return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
});
const total = files.reduce((a, f) => ({ bytes: a.bytes + f.bytes, gzipBytes: a.gzipBytes + f.gzipBytes }), { bytes: 0, gzipBytes: 0 });
const result = { measuredAt: new Date().toISOString(), targetGzipBytes: 250 * 1024, files, ...total };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/console-bundle.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(`console first-load JS: ${(total.bytes / 1024).toFixed(1)} KB, ${(total.gzipBytes / 1024).toFixed(1)} KB gzipped (target < 250 KB) in ${files.length} file(s)`);
if (total.gzipBytes > result.targetGzipBytes) process.exitCode = 1;
