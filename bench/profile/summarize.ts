/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, one .cpuprofile per service process): self time per
 * service, per package (node_modules/<pkg>, node: internals, our own code by file) and the hottest functions.
 *
 *   node -r @swc-node/register bench/profile/summarize.ts <dir> [--top 12] [--json out.json]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command } from 'commander';

const cli = new Command('summarize-profiles')
  .argument('<dir>', 'folder with one subfolder per service (<dir>/<service>/*.cpuprofile, as `pipeline.ts --cpu-prof`)')
  .option('--top <n>', 'rows per table', Number, 12)
  .option('--json <file>', 'also write the figures as JSON')
  .parse();
const [dir] = cli.args;
const { top, json } = cli.opts<{ top: number; json?: string }>();

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code comes from: an npm package, a Node internal, our code (by file), or V8 itself. */
function origin(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url;
  const src = /(?:apps|libs)\/.+$/.exec(url) ?? /dist\/apps\/[^/]+\/.+$/.exec(url);
  return src ? src[0] : basename(url);
}

const round = (ms: number) => Math.round(ms);

function summarise(service: string, file: string) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busyUs += us;
    const o = origin(url, functionName);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${o}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => ({ name: k, ms: round(us / 1000), share: Math.round((us / busyUs) * 1000) / 10 }));
  return {
    service,
    file: basename(file),
    wallMs: round((profile.endTime - profile.startTime) / 1000),
    busyMs: round(busyUs / 1000),
    origins: rank(byOrigin),
    functions: rank(byFunction),
  };
}

const results = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(dir, d.name))
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => summarise(d.name, join(dir, d.name, f))),
  )
  .sort((a, b) => b.busyMs - a.busyMs);
for (const r of results) {
  console.log(`\n## ${r.service}: busy ${r.busyMs} ms of ${r.wallMs} ms (${r.file})\n`);
  console.log('| where | ms | % |\n|---|---:|---:|');
  for (const o of r.origins) console.log(`| ${o.name} | ${o.ms} | ${o.share} |`);
  console.log('\n| function | ms | % |\n|---|---:|---:|');
  for (const f of r.functions) console.log(`| \`${f.name}\` | ${f.ms} | ${f.share} |`);
}
if (json) writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
