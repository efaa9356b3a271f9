/**
 * Delivery benchmark: 100,000 contacts (one run, 1,000 batches of 100 rows) published to
 * export.contacts-mapped.v1 and delivered by the built autopilot-delivery against the built simulator,
 * at 5 r/s per key and unthrottled. Prints durations and saves JSON under bench/results/.
 * Service output goes to tmp/logs/<service>.log.
 *
 *   npx nx build autopilot-delivery && npx nx build autopilot-simulator
 *   node -r @swc-node/register bench/delivery/run.ts [--mode unthrottled|5rps|both] [--contacts 100000]
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TOPICS } from '@export/contracts';
import {
  collectMessages,
  createTestDatabase,
  DEV_INTERNAL_AUTH_SECRET,
  expectEventually,
  freePort,
  startGroupAtEnd,
  startServiceProcess,
  testKafka,
  WORKSPACE_ROOT,
} from '@export/testing';
import { verifyServiceToken } from '@export/service-auth';
import axios from 'axios';
import { Command } from 'commander';
import express from 'express';

/**
 * Peak resident memory (VmHWM) of a process so far, in MiB, or -1. Not `readRssMiB` from @export/testing:
 * that one reads the current VmRSS, and this benchmark reports the true peak from a single reading.
 */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const peak = /VmHWM:\s+(\d+)/.exec(status);
  return peak ? Math.round(Number(peak[1]) / 1024) : -1;
}

async function bench(mode: 'unthrottled' | '5rps', total: number) {
  const rps = mode === 'unthrottled' ? 0 : 5;
  const database = await createTestDatabase('bench_delivery');

  const apiKey = `bench-${randomUUID()}`;
  const sim = await startServiceProcess({
    name: 'autopilot-simulator',
    entry: 'dist/apps/autopilot-simulator/main.js',
    port: await freePort(),
    env: { LOG_LEVEL: 'warn', SIM_API_KEYS: apiKey, SIM_RATE_LIMIT_RPS: String(rps) },
    readyPath: '/__sim/health',
  });
  const simUrl = `http://127.0.0.1:${sim.port}`;

  const tenantId = `bench-${randomUUID().slice(0, 8)}`;
  const connectionId = `conn-${randomUUID().slice(0, 8)}`;
  // Stub of the control plane's internal listener: service token checked, the run confirmed, the key handed out.
  const app = express();
  app.use(async (req, res, next) => {
    try {
      await verifyServiceToken(DEV_INTERNAL_AUTH_SECRET, (req.headers.authorization ?? '').replace(/^Bearer /, ''));
      next();
    } catch {
      res.status(401).end();
    }
  });
  app.get('/internal/v1/runs/:runId', (req, res) => {
    if (req.params.runId !== run.runId || req.query['tenantId'] !== tenantId) return void res.status(404).end();
    res.json({ runId, tenantId, exportId: run.exportId, status: 'running', connectionId, spec: run });
  });
  app.get('/internal/v1/connections/:id/credentials', (req, res) => {
    if (req.query['runId'] !== run.runId) return void res.status(404).end();
    res.json({ connectionId, tenantId, apiKey, status: 'active' });
  });
  const controlPlane = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });

  const groupId = `bench-delivery-${randomUUID().slice(0, 8)}`;
  await startGroupAtEnd(groupId, [TOPICS.contactsMapped.name]);
  await startGroupAtEnd(`${groupId}-control`, [TOPICS.runControl.name]);

  const delivery = await startServiceProcess({
    name: 'autopilot-delivery',
    entry: 'dist/apps/autopilot-delivery/main.js',
    port: await freePort(),
    env: {
      LOG_LEVEL: 'warn',
      KAFKA_GROUP_ID: groupId,
      DATABASE_URL: database.url,
      AUTOPILOT_BASE_URL: `${simUrl}/v1`,
      CONTROL_PLANE_URL: `http://127.0.0.1:${(controlPlane.address() as AddressInfo).port}`,
      INTERNAL_AUTH_SECRET: DEV_INTERNAL_AUTH_SECRET,
      AUTOPILOT_RATE_LIMIT_RPS: String(rps),
    },
  });

  const runId = randomUUID();
  const events = await collectMessages([TOPICS.runEvents.name]);
  /** The first event of this run with one of `types`, stamped when it is seen (polled every 10 ms). */
  const nextEvent = (types: string[], timeoutMs: number) =>
    expectEventually(
      () => {
        for (const message of events.messages) {
          if (message.key !== runId) continue;
          const value = JSON.parse(message.value ?? '{}');
          if (types.includes(value.type)) {
            return {
              type: value.type as string,
              at: performance.now(),
              counts: value.counts as Record<string, number> | undefined,
            };
          }
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 10, message: types.join(' or ') },
    );

  const run = {
    runId,
    tenantId,
    exportId: 'bench',
    connectionId,
    trigger: 'on-demand',
    segments: [
      {
        segmentId: 'seg',
        segmentName: 'Bench',
        listName: `Bench ${runId.slice(0, 8)}`,
        snapshot: { format: 'jsonl', location: 'x' },
      },
    ],
    mapping: { email: 'EMail' },
    limitPolicy: 'skip',
    profileLimit: 100_000,
    quotaPerMonth: null,
  };
  // One producer for the whole publish, so publishSeconds measures sending, not connecting.
  const producer = testKafka('bench-delivery').producer();
  await producer.connect();
  const batchSize = 100;
  const batches = Math.ceil(total / batchSize);
  const t0 = performance.now();
  for (let b = 0; b < batches; b += 50) {
    const messages = [];
    for (let i = b; i < Math.min(batches, b + 50); i++) {
      const contacts = Array.from({ length: Math.min(batchSize, total - i * batchSize) }, (_, j) => {
        const seq = i * batchSize + j;
        return {
          seq,
          email: `user${seq}@bench.example`,
          segmentId: 'seg',
          contact: { Email: `user${seq}@bench.example`, FirstName: `F${seq}` },
        };
      });
      messages.push({
        key: runId,
        value: JSON.stringify({ kind: 'batch', run, batchSeq: i, contacts, rejected: 0 }),
      });
    }
    await producer.send({ topic: TOPICS.contactsMapped.name, messages, acks: -1 });
  }
  await producer.send({
    topic: TOPICS.contactsMapped.name,
    messages: [{ key: runId, value: JSON.stringify({ kind: 'end', run, batches, extracted: total }) }],
    acks: -1,
  });
  const published = performance.now();
  await producer.disconnect();

  const started = await nextEvent(['delivery-started'], 600_000);
  const completed = await nextEvent(['delivery-completed', 'run-failed'], 900_000);
  const stats = (await axios.get(`${simUrl}/__sim/stats`)).data;
  const peakRss = await peakRssMiB(delivery.pid);
  const result = {
    mode,
    contacts: total,
    rateLimitRps: rps,
    publishSeconds: +((published - t0) / 1000).toFixed(2),
    stagedReadySeconds: +((started.at - t0) / 1000).toFixed(2),
    deliverySeconds: +((completed.at - started.at) / 1000).toFixed(2),
    totalSeconds: +((completed.at - t0) / 1000).toFixed(2),
    outcome: completed.type,
    counts: completed.counts,
    simulator: {
      requests: stats.requests.total,
      rateLimited: stats.rateLimited,
      contacts: stats.contacts.total,
      maxRequestsInWindow: stats.keys[apiKey]?.maxRequestsInWindow,
    },
    deliveryPeakRssMb: peakRss,
    at: new Date().toISOString(),
  };
  console.log(JSON.stringify(result, null, 2));

  await events.stop();
  await delivery.stop();
  await sim.stop();
  controlPlane.close();
  await database.drop();
  return result;
}

async function main() {
  const options = new Command()
    .option('--mode <mode>', 'unthrottled | 5rps | both', 'unthrottled')
    .option('--contacts <n>', 'contacts in the run', '100000')
    .parse()
    .opts<{ mode: string; contacts: string }>();
  const modes =
    options.mode === 'both' ? (['unthrottled', '5rps'] as const) : [options.mode as 'unthrottled' | '5rps'];
  const results = [];
  for (const mode of modes) results.push(await bench(mode, Number(options.contacts)));
  const dir = join(WORKSPACE_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `delivery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`saved ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
