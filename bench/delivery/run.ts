/**
 * Delivery benchmark: 100,000 contacts (one run, 1,000 batches of 100 rows) published to
 * export.contacts-mapped.v1 and delivered by the built autopilot-delivery against the built simulator,
 * at 5 r/s per key and unthrottled. Prints durations and saves JSON under bench/results/.
 *
 *   npx nx build autopilot-delivery && npx nx build autopilot-simulator
 *   node -r @swc-node/register bench/delivery/run.ts [--mode unthrottled|5rps|both] [--contacts 100000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import axios from 'axios';
import { Command } from 'commander';
import express from 'express';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';

const ROOT = join(__dirname, '../..');
const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const ADMIN_DB = process.env['BENCH_ADMIN_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const JWT_SECRET = 'dev-only-auth-jwt-secret-for-local-development';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe().catch(() => undefined);
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function spawnService(
  script: string,
  env: Record<string, string>,
  readyPath: string,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => (await axios.get(`${url}${readyPath}`, { timeout: 1000 })).status === 200,
    60_000,
    script,
  );
  return { url, child };
}

async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const peak = /VmHWM:\s+(\d+)/.exec(status);
  return peak ? Math.round(Number(peak[1]) / 1024) : -1;
}

async function bench(mode: 'unthrottled' | '5rps', total: number) {
  const rps = mode === 'unthrottled' ? 0 : 5;
  const dbName = `bench_delivery_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: ADMIN_DB });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(ADMIN_DB);
  dbUrl.pathname = `/${dbName}`;

  const apiKey = `bench-${randomUUID()}`;
  const sim = await spawnService(
    'dist/apps/autopilot-simulator/main.js',
    { SIM_API_KEYS: apiKey, SIM_RATE_LIMIT_RPS: String(rps) },
    '/__sim/health',
  );

  const tenantId = `bench-${randomUUID().slice(0, 8)}`;
  const connectionId = `conn-${randomUUID().slice(0, 8)}`;
  const jwt = new JwtService({ secret: JWT_SECRET });
  const app = express();
  app.get('/internal/v1/connections/:id/credentials', async (req, res) => {
    await jwt.verifyAsync((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    res.json({ connectionId, tenantId, apiKey, status: 'active' });
  });
  const controlPlane = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });

  const kafka = new Kafka({ clientId: 'bench-delivery', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const groupId = `bench-delivery-${randomUUID().slice(0, 8)}`;
  const kadmin = kafka.admin();
  await kadmin.connect();
  for (const [group, topic] of [
    [groupId, 'export.contacts-mapped.v1'],
    [`${groupId}-control`, 'export.run-control.v1'],
  ]) {
    const offsets = await kadmin.fetchTopicOffsets(topic);
    await kadmin.setOffsets({
      groupId: group,
      topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
    });
  }
  await kadmin.disconnect();

  const delivery = await spawnService(
    'dist/apps/autopilot-delivery/main.js',
    {
      KAFKA_GROUP_ID: groupId,
      DATABASE_URL: dbUrl.toString(),
      AUTOPILOT_BASE_URL: `${sim.url}/v1`,
      CONTROL_PLANE_URL: `http://127.0.0.1:${(controlPlane.address() as AddressInfo).port}`,
      AUTOPILOT_RATE_LIMIT_RPS: String(rps),
    },
    '/readyz',
  );

  const runId = randomUUID();
  const events: { type: string; at: number; counts?: Record<string, number> }[] = [];
  const consumer = kafka.consumer({ groupId: `bench-events-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: 'export.run-events.v1', fromBeginning: false });
  let joined!: () => void;
  const joinedP = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() !== runId) return;
      const value = JSON.parse(message.value?.toString() ?? '{}');
      events.push({ type: value.type, at: performance.now(), counts: value.counts });
    },
  });
  await joinedP;

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
  const producer = kafka.producer();
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
    await producer.send({ topic: 'export.contacts-mapped.v1', messages, acks: -1 });
  }
  await producer.send({
    topic: 'export.contacts-mapped.v1',
    messages: [{ key: runId, value: JSON.stringify({ kind: 'end', run, batches, extracted: total }) }],
    acks: -1,
  });
  const published = performance.now();
  await producer.disconnect();

  const started = await until(
    async () => events.find((e) => e.type === 'delivery-started'),
    600_000,
    'delivery-started',
  );
  const completed = await until(
    async () => events.find((e) => e.type === 'delivery-completed' || e.type === 'run-failed'),
    900_000,
    'completion',
  );
  const stats = (await axios.get(`${sim.url}/__sim/stats`)).data;
  const peakRss = await rssMb(delivery.child.pid ?? 0);
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

  await consumer.disconnect();
  delivery.child.kill('SIGTERM');
  await new Promise((resolve) => delivery.child.once('exit', resolve));
  sim.child.kill('SIGTERM');
  controlPlane.close();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
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
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `delivery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`saved ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
