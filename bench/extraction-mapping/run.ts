/**
 * Benchmark: 1,000,000 profile rows through segment-extraction and field-mapping, both started from their
 * built artifacts (dist/apps) as separate processes on the real broker. Prints end-to-end rows/s and the
 * peak RSS of each service (VmRSS sampled every 200 ms) and saves the figures under bench/results/.
 *
 *   npx nx run-many -t build -p segment-extraction,field-mapping
 *   npm run bench:extraction-mapping -- [--rows 1000000] [--partitions 4]
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, readRssMiB, startGroupAtEnd, startServiceProcess, type ServiceProcess } from '@export/testing';

const ROOT = resolve(__dirname, '../..');
const TOPIC_RUN_REQUESTED = 'export.run-requested.v1';
const TOPIC_PROFILES_EXTRACTED = 'export.profiles-extracted.v1';
const TOPIC_CONTACTS_MAPPED = 'export.contacts-mapped.v1';
const TOPIC_RUN_EVENTS = 'export.run-events.v1';
const ATTRIBUTES = ['CustomerId', 'EMail', 'FirstName', 'LastName', 'LoyaltyTier', 'LifetimeValue'];
const TIERS = ['Gold', 'Silver', 'Bronze', ''];

const options = new Command()
  .option('--rows <n>', 'profile rows in the generated snapshot', (v) => Number.parseInt(v, 10), 1_000_000)
  .option('--partitions <n>', 'CSV partitions of the CDM folder', (v) => Number.parseInt(v, 10), 4)
  .option('--timeout <s>', 'give up after this many seconds', (v) => Number.parseInt(v, 10), 900)
  .parse()
  .opts<{ rows: number; partitions: number; timeout: number }>();

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({
  clientId: `bench-${randomUUID().slice(0, 8)}`,
  brokers,
  logLevel: logLevel.NOTHING,
});

/** Writes a CDM folder (model.json + headerless CSV partitions); every 1000th row has no e-mail. */
async function generateCdmFolder(dir: string, rows: number, partitions: number): Promise<string> {
  await mkdir(join(dir, 'Profiles'), { recursive: true });
  const perPartition = Math.ceil(rows / partitions);
  const parts: { name: string; location: string }[] = [];
  for (let p = 0; p < partitions; p++) {
    const location = `Profiles/part-${String(p).padStart(5, '0')}.csv`;
    parts.push({ name: `part-${p}`, location });
    const out = createWriteStream(join(dir, location));
    const end = Math.min(rows, (p + 1) * perPartition);
    for (let i = p * perPartition; i < end; i++) {
      const email = i % 1000 === 999 ? '' : `User.${i}@Example.com`;
      const line = `C-${i},${email},First${i},"Last, ${i}",${TIERS[i % 4]},${(i % 10000) / 100}\r\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }
  const model = {
    name: 'bench',
    version: '1.0',
    entities: [
      {
        $type: 'LocalEntity',
        name: 'Profiles',
        attributes: ATTRIBUTES.map((name) => ({ name, dataType: 'string' })),
        partitions: parts,
      },
    ],
  };
  const modelFile = join(dir, 'model.json');
  await writeFile(modelFile, JSON.stringify(model));
  return modelFile;
}



async function main(): Promise<void> {
  const suffix = randomUUID().slice(0, 8);
  // dir plays SNAPSHOT_ROOT: the snapshot goes into the run's tenant folder, <dir>/<tenantId>/.
  const dir = await mkdtemp(join(tmpdir(), 'bench-extraction-mapping-'));
  const tenantId = `bench-${suffix}`;
  const services: ServiceProcess[] = [];
  const collector = kafka.consumer({
    groupId: `bench-collector-${suffix}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  let sampler: NodeJS.Timeout | undefined;
  try {
    const generateStart = Date.now();
    const modelFile = await generateCdmFolder(join(dir, tenantId), options.rows, options.partitions);
    console.log(
      `generated ${options.rows} rows in ${options.partitions} partitions in ${Date.now() - generateStart} ms`,
    );

    const groups = {
      extraction: `bench-segment-extraction-${suffix}`,
      mapping: `bench-field-mapping-${suffix}`,
    };
    await startGroupAtEnd(groups.extraction, [TOPIC_RUN_REQUESTED]);
    await startGroupAtEnd(groups.mapping, [TOPIC_PROFILES_EXTRACTED]);
    await startGroupAtEnd(`bench-collector-${suffix}`, [TOPIC_CONTACTS_MAPPED]);
    await startGroupAtEnd(`bench-collector-${suffix}`, [TOPIC_RUN_EVENTS]);

    const logDir = join(dir, 'logs');
    const started = await Promise.all(
      [
        ['segment-extraction', groups.extraction],
        ['field-mapping', groups.mapping],
      ].map(async ([app, groupId]) =>
        startServiceProcess({
          name: app,
          entry: `dist/apps/${app}/main.js`,
          port: await freePort(),
          env: { KAFKA_GROUP_ID: groupId, LOG_LEVEL: 'warn', KAFKA_BROKERS: brokers.join(','), SNAPSHOT_ROOT: dir },
          logDir,
        }),
      ),
    );
    services.push(...started);

    const peakRss: Record<string, number> = {};
    const baselineRss: Record<string, number> = {};
    for (const s of services) baselineRss[s.name] = (await readRssMiB(s.pid)) ?? 0;
    sampler = setInterval(() => {
      for (const s of services) {
        void readRssMiB(s.pid).then((rss) => {
          if (rss !== undefined) peakRss[s.name] = Math.max(peakRss[s.name] ?? 0, rss);
        });
      }
    }, 200);

    const runId = randomUUID();
    const batchesSeen = new Set<number>();
    let contacts = 0;
    let end: { batches: number; extracted: number } | undefined;
    let extractionDoneAt: number | undefined;
    let rejectedRows = 0;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    await collector.connect();
    await collector.subscribe({ topics: [TOPIC_CONTACTS_MAPPED, TOPIC_RUN_EVENTS] });
    await collector.run({
      eachMessage: async ({ topic, message }) => {
        if (message.key?.toString() !== runId || !message.value) return;
        const value = JSON.parse(message.value.toString());
        if (topic === TOPIC_RUN_EVENTS) {
          if (value.type === 'extraction-completed') extractionDoneAt = Date.now();
          if (value.type === 'rows-rejected') rejectedRows += value.rejections.length;
          if (value.type === 'run-failed') throw new Error(`run failed: ${value.message}`);
          return;
        }
        if (value.kind === 'batch' && !batchesSeen.has(value.batchSeq)) {
          batchesSeen.add(value.batchSeq);
          contacts += value.contacts.length;
        }
        if (value.kind === 'end') end = { batches: value.batches, extracted: value.extracted };
        if (end && batchesSeen.size === end.batches) finished();
      },
    });

    const run = {
      runId,
      tenantId,
      exportId: 'bench-export',
      connectionId: 'bench-connection',
      trigger: 'on-demand',
      segments: [
        {
          segmentId: 'seg-bench',
          segmentName: 'Bench',
          listName: 'Bench',
          snapshot: { format: 'cdm-folder', location: modelFile, entity: 'Profiles' },
        },
      ],
      mapping: {
        email: 'EMail',
        firstName: 'FirstName',
        lastName: 'LastName',
        custom: [
          { attribute: 'LoyaltyTier', field: 'Loyalty Tier', type: 'string' },
          { attribute: 'LifetimeValue', field: 'Lifetime Value', type: 'float' },
        ],
      },
      limitPolicy: 'skip',
      profileLimit: 100_000,
      quotaPerMonth: null,
    };
    const producer = kafka.producer();
    await producer.connect();
    const start = Date.now();
    await producer.send({
      topic: TOPIC_RUN_REQUESTED,
      acks: -1,
      messages: [
        {
          key: runId,
          value: JSON.stringify({ run, requestedAt: new Date().toISOString() }),
          headers: { 'x-correlation-id': `bench-${suffix}` },
        },
      ],
    });
    await producer.disconnect();

    const progress = setInterval(() => {
      const rss = services.map((s) => `${s.name} ${Math.round(peakRss[s.name] ?? 0)} MiB`).join(', ');
      console.log(
        `${((Date.now() - start) / 1000).toFixed(0)} s: ${contacts} contacts in ${batchesSeen.size} batches; peak RSS ${rss}`,
      );
    }, 5000);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`not finished after ${options.timeout} s`)),
        options.timeout * 1000,
      ).unref(),
    );
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearInterval(progress);
    }
    const seconds = (Date.now() - start) / 1000;
    clearInterval(sampler);

    const figures = {
      benchmark: 'extraction-mapping',
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        totalMemMiB: Math.round(totalmem() / 2 ** 20),
        node: process.version,
      },
      rows: options.rows,
      partitions: options.partitions,
      extracted: end?.extracted,
      batches: end?.batches,
      contactsMapped: contacts,
      rowsRejected: rejectedRows,
      seconds: Number(seconds.toFixed(2)),
      rowsPerSecond: Math.round(options.rows / seconds),
      extractionSeconds: extractionDoneAt
        ? Number(((extractionDoneAt - start) / 1000).toFixed(2))
        : undefined,
      peakRssMiB: Object.fromEntries(services.map((s) => [s.name, Math.round(peakRss[s.name] ?? 0)])),
      idleRssMiB: Object.fromEntries(services.map((s) => [s.name, Math.round(baselineRss[s.name] ?? 0)])),
      targetPeakRssMiB: 300,
    };
    console.log(JSON.stringify(figures, null, 2));
    const resultsDir = join(ROOT, 'bench/results');
    await mkdir(resultsDir, { recursive: true });
    const file = join(resultsDir, `extraction-mapping-${figures.date.slice(0, 19).replace(/:/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`saved ${file}`);
  } finally {
    if (sampler) clearInterval(sampler);
    await collector.disconnect().catch(() => undefined);
    await Promise.allSettled(services.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
