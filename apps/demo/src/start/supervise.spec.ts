import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceLaunch } from './start-plan';
import { superviseServices } from './supervise';

/** A stand-in service: crashes at its first start (exit 1), then runs until SIGINT and exits 0 as Nest does. */
function flakyService(dir: string, name: 'field-mapping' | 'segment-extraction'): ServiceLaunch {
  const marker = join(dir, `${name}.started`);
  const entry = join(dir, `${name}.js`);
  writeFileSync(
    entry,
    `const fs = require('node:fs');
     if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, ''); console.log('crashing'); process.exit(1); }
     console.log(JSON.stringify({ level: 'info', time: Date.now(), msg: 'up again' }));
     fs.writeFileSync(${JSON.stringify(marker)}, 'running');
     process.on('SIGINT', () => process.exit(0));
     setInterval(() => undefined, 1000);`,
  );
  return { name, port: 0, entry, env: {} };
}

describe('superviseServices', () => {
  it('restarts a crashed service, and a SIGTERM stops the set without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervise-'));
    const signals = new EventEmitter();
    const services = [flakyService(dir, 'field-mapping'), flakyService(dir, 'segment-extraction')];
    const { result } = superviseServices(services, { signals, jsonLogs: true });
    const marker = (s: ServiceLaunch) => join(dir, `${s.name}.started`);
    // Each wrote 'running' at its second start: the supervisor restarted it after its crash.
    const running = () =>
      services.every((s) => existsSync(marker(s)) && readFileSync(marker(s), 'utf8') === 'running');
    const deadline = Date.now() + 30_000;
    while (!running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(running()).toBe(true);

    signals.emit('SIGTERM');
    const ended = await result.then(
      (events) => ({ ok: true, codes: events.map((e) => e.exitCode) }),
      (events: { exitCode: number | string }[]) => ({ ok: false, codes: events.map((e) => e.exitCode) }),
    );
    // The stand-ins stop cleanly only on SIGINT: a SIGTERM passed on as such would end them 'SIGTERM', and
    // concurrently would restart them instead of resolving.
    expect(ended).toEqual({ ok: true, codes: [0, 0] });
  });
});
