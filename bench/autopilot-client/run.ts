/**
 * CPU per bulk upsert, loopback only: `rounds` runs of `calls` bulk upserts of 100 new contacts each (the shape
 * delivery sends: Email, FirstName, LastName, `_autopilot_list`) from libs/autopilot-client to the built
 * simulator (dist/apps/autopilot-simulator, unpaced), `concurrency` calls in flight. Reports, per call, the CPU
 * of this process (the client and nothing else while measuring: the payloads are built beforehand) and of the
 * simulator process (from /proc), and the wall time. The simulator keeps every contact: each round sends new
 * e-mails, as a first run of an export does.
 *
 *   npm run bench:autopilot-client -- [--calls 1000] [--concurrency 4] [--rounds 3] [--name <result name>]
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { AutopilotClient, type AutopilotContactInput } from '@export/autopilot-client';
import { startServiceProcess } from '@export/testing';
import { saveResult } from '../lib/report';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    name: { type: 'string' },
  },
});
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const API_KEY = 'bench-client-key';
const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process, ms. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function batches(round: number, listId: string): AutopilotContactInput[][] {
  return Array.from({ length: CALLS }, (_, call) =>
    Array.from({ length: 100 }, (_, i) => ({
      Email: `person-${round}-${call}-${i}@bench.example.com`,
      FirstName: `First${i}`,
      LastName: `Last${call}`,
      _autopilot_list: listId,
    })),
  );
}

async function sendAll(client: AutopilotClient, work: AutopilotContactInput[][]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const batch = work[next++];
      const result = await client.bulkUpsert(batch);
      if (result.emailContactMap.size !== batch.length) throw new Error('a contact did not land');
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function main(): Promise<void> {
  const port = await freePort();
  const simulator = await startServiceProcess({
    name: 'bench-autopilot-client-simulator',
    entry: 'dist/apps/autopilot-simulator/main.js',
    env: { SIM_API_KEYS: API_KEY, SIM_RATE_LIMIT_RPS: '0', LOG_LEVEL: 'warn' },
    port,
    readyPath: '/__sim/health',
  });
  try {
    const client = new AutopilotClient({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: API_KEY });
    const listId = await client.createList('bench');
    await sendAll(client, batches(-1, listId).slice(0, 100)); // warm-up: JIT of both sides
    const rounds: Array<{ clientCpuMsPerCall: number; simulatorCpuMsPerCall: number; wallMsPerCall: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const work = batches(round, listId);
      const startCpu = ownCpuMs();
      const startSim = processCpuMs(simulator.pid);
      const started = performance.now();
      await sendAll(client, work);
      const wall = performance.now() - started;
      const perCall = (ms: number) => Math.round((ms / CALLS) * 100) / 100;
      rounds.push({
        clientCpuMsPerCall: perCall(ownCpuMs() - startCpu),
        simulatorCpuMsPerCall: perCall(processCpuMs(simulator.pid) - startSim),
        wallMsPerCall: perCall(wall),
      });
      console.log(`round ${round + 1}: ${JSON.stringify(rounds[round])} (load ${loadavg()[0].toFixed(2)})`);
    }
    const median = (pick: (r: (typeof rounds)[number]) => number) =>
      rounds.map(pick).sort((a, b) => a - b)[Math.floor(rounds.length / 2)];
    const summary = {
      calls: CALLS,
      concurrency: CONCURRENCY,
      rounds,
      medianClientCpuMsPerCall: median((r) => r.clientCpuMsPerCall),
      medianSimulatorCpuMsPerCall: median((r) => r.simulatorCpuMsPerCall),
      medianWallMsPerCall: median((r) => r.wallMsPerCall),
    };
    console.log(JSON.stringify(summary));
    if (values.name) {
      saveResult(values.name, summary, [
        {
          title: `CPU per bulk upsert of 100 contacts (median of ${ROUNDS} x ${CALLS} calls, ${CONCURRENCY} in flight)`,
          unit: 'ms',
          bars: [
            { label: 'client (libs/autopilot-client)', value: summary.medianClientCpuMsPerCall },
            { label: 'simulator', value: summary.medianSimulatorCpuMsPerCall },
          ],
        },
      ]);
    }
  } finally {
    await simulator.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
