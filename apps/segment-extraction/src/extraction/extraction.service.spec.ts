import { ProfilesExtractedV1, RunEventV1, TOPICS, type RunSpec } from '@export/contracts';
import type { EventPublisher } from '@export/kafka';
import { DEFAULT_SNAPSHOT_LIMITS } from '@export/snapshot-reader';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ExtractionMetrics } from './extraction.metrics';
import { ExtractionService } from './extraction.service';
import type { ExtractionSettings } from './extraction.tokens';

const FIXTURE = join(__dirname, '../../../../libs/snapshot-reader/fixtures/cdm-sample');
// SNAPSHOT_ROOT of these tests: the sample is copied into the folder of tenant contoso (beforeAll).
const ROOT = join(tmpdir(), `extraction-root-${process.pid}-${Date.now()}`);
const TENANT_DIR = join(ROOT, 'contoso');
const SAMPLE = join(TENANT_DIR, 'cdm-sample/model.json');

beforeAll(async () => {
  await mkdir(join(ROOT, 'other'), { recursive: true });
  await cp(FIXTURE, join(TENANT_DIR, 'cdm-sample'), { recursive: true });
});
afterAll(() => rm(ROOT, { recursive: true, force: true }));

interface Sent {
  topic: string;
  key: string;
  value: unknown;
  correlationId?: string;
}

/** Records what would go to Kafka, parsed with the topic contracts as the real publisher does. */
function fakePublisher(sent: Sent[]): EventPublisher {
  return {
    publish: async (
      topic: string,
      messages: { key: string; value: unknown }[],
      context: { correlationId?: string } = {},
    ) => {
      for (const m of messages) {
        const value =
          topic === TOPICS.runEvents.name ? RunEventV1.parse(m.value) : ProfilesExtractedV1.parse(m.value);
        sent.push({ topic, key: m.key, value, correlationId: context.correlationId });
      }
    },
  } as unknown as EventPublisher;
}

function runSpec(segments: RunSpec['segments']): RunSpec {
  return {
    runId: '7d4f2a10-3c1b-4e2a-9f3e-0a1b2c3d4e5f',
    tenantId: 'contoso',
    exportId: 'exp-1',
    connectionId: 'conn-1',
    trigger: 'on-demand',
    segments,
    mapping: { email: 'EMail' },
    limitPolicy: 'skip',
    profileLimit: 100_000,
    quotaPerMonth: null,
  };
}

const sampleSegment = (segmentId: string, location = SAMPLE): RunSpec['segments'][number] => ({
  segmentId,
  segmentName: segmentId,
  listName: segmentId,
  snapshot: { format: 'cdm-folder', location, entity: 'HighValueCustomers' },
});

const settings = (overrides: Partial<ExtractionSettings> = {}): ExtractionSettings => ({
  snapshotRoot: ROOT,
  snapshotLimits: DEFAULT_SNAPSHOT_LIMITS,
  batchRows: 500,
  batchBytes: 256 * 1024,
  maxInFlight: 3,
  ...overrides,
});

async function extract(run: RunSpec, config: ExtractionSettings): Promise<Sent[]> {
  const sent: Sent[] = [];
  const service = new ExtractionService(
    fakePublisher(sent),
    new ExtractionMetrics(),
    config,
    pino({ level: 'silent' }),
  );
  await service.extractRun(run, { correlationId: 'corr-1', signal: new AbortController().signal });
  return sent;
}

const batches = (sent: Sent[]) =>
  sent.flatMap((s) => (s.topic === TOPICS.profilesExtracted.name ? [s.value as ProfilesExtractedV1] : []));
const events = (sent: Sent[]) =>
  sent.flatMap((s) => (s.topic === TOPICS.runEvents.name ? [s.value as RunEventV1] : []));

describe('ExtractionService', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(TENANT_DIR, 'extraction-'));
  });

  it('streams every segment in order with a global seq, numbered batches and an end with totals', async () => {
    const run = runSpec([sampleSegment('seg-a'), sampleSegment('seg-b')]);
    const sent = await extract(run, settings({ batchRows: 4 }));
    const published = batches(sent);
    const rowBatches = published.flatMap((b) => (b.kind === 'batch' ? [b] : []));
    expect(rowBatches.map((b) => [b.batchSeq, b.segmentId, b.rows.length])).toEqual([
      [0, 'seg-a', 4],
      [1, 'seg-a', 4],
      [2, 'seg-a', 2],
      [3, 'seg-b', 4],
      [4, 'seg-b', 4],
      [5, 'seg-b', 2],
    ]);
    expect(rowBatches.flatMap((b) => b.rows.map((r) => r.seq))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(rowBatches[0].rows[0]).toMatchObject({
      partition: 'part-1',
      line: 1,
      values: { CustomerId: 'C-0001' },
    });
    expect(published.at(-1)).toEqual({ kind: 'end', run, batches: 6, extracted: 20, rejected: 0 });
    expect(events(sent).map((e) => e.type)).toEqual(['extraction-started', 'extraction-completed']);
    expect(events(sent)[1]).toMatchObject({ extracted: 20 });
    expect(sent.every((s) => s.key === run.runId && s.correlationId === 'corr-1')).toBe(true);
  });

  it('cuts batches by bytes as well, and re-extraction gives identical batches', async () => {
    const run = runSpec([sampleSegment('seg-a')]);
    const config = settings({ batchRows: 500, batchBytes: 1024 });
    const first = batches(await extract(run, config));
    const second = batches(await extract(run, config));
    expect(first).toEqual(second);
    const rowBatches = first.flatMap((b) => (b.kind === 'batch' ? [b] : []));
    expect(rowBatches.length).toBeGreaterThan(1);
    for (const batch of rowBatches) {
      const bytes = batch.rows.reduce((sum, row) => sum + Buffer.byteLength(JSON.stringify(row)) + 1, 0);
      expect(batch.rows.length === 1 || bytes <= 1024).toBe(true);
    }
  });

  it('reports rows with a wrong column count in chunks of at most 500, and counts them in end', async () => {
    const folder = join(dir, 'rejections');
    await mkdir(folder, { recursive: true });
    const lines = Array.from({ length: 1203 }, (_, i) => (i % 2 === 0 ? `id-${i},x${i}@y.io` : `id-${i}`));
    await writeFile(join(folder, 'p.csv'), lines.join('\n'));
    const model = {
      entities: [
        {
          name: 'E',
          attributes: [{ name: 'Id' }, { name: 'EMail' }],
          partitions: [{ name: 'p', location: 'p.csv' }],
        },
      ],
    };
    await writeFile(join(folder, 'model.json'), JSON.stringify(model));
    const run = runSpec([
      {
        segmentId: 's',
        segmentName: 's',
        listName: 's',
        snapshot: { format: 'cdm-folder', location: join(folder, 'model.json'), entity: 'E' },
      },
    ]);
    const sent = await extract(run, settings());
    const rejected = events(sent).flatMap((e) => (e.type === 'rows-rejected' ? [e] : []));
    expect(rejected.map((e) => e.rejections.length)).toEqual([500, 101]);
    expect(rejected[0].stage).toBe('extraction');
    expect(rejected[0].rejections[0]).toEqual({
      segmentId: 's',
      partition: 'p',
      line: 2,
      reason: 'expected 2 columns, found 1',
    });
    expect(batches(sent).at(-1)).toMatchObject({ kind: 'end', extracted: 602, rejected: 601, batches: 2 });
  });

  it('fails the run naming the file when model.json is missing, and sends no end', async () => {
    const missing = join(dir, 'gone/model.json');
    const sent = await extract(
      runSpec([sampleSegment('seg-a'), sampleSegment('seg-b', missing)]),
      settings(),
    );
    const failed = events(sent).find((e) => e.type === 'run-failed');
    expect(failed).toMatchObject({
      stage: 'extraction',
      code: 'SNAPSHOT_UNREADABLE',
      message: expect.stringContaining(missing),
    });
    expect(batches(sent).some((b) => b.kind === 'end')).toBe(false);
    expect(events(sent).some((e) => e.type === 'extraction-completed')).toBe(false);
  });

  it('lets a publish failure through so the request is retried', async () => {
    const publisher = {
      publish: async (topic: string) => {
        if (topic === TOPICS.profilesExtracted.name) throw new Error('broker down');
      },
    } as unknown as EventPublisher;
    const service = new ExtractionService(
      publisher,
      new ExtractionMetrics(),
      settings(),
      pino({ level: 'silent' }),
    );
    await expect(
      service.extractRun(runSpec([sampleSegment('seg-a')]), {
        correlationId: 'c',
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow('broker down');
  });
});

describe('ExtractionService: snapshots stay inside the tenant folder (issue 10)', () => {
  const SECRET = 'victim@other-tenant.example';
  const segment = (snapshot: RunSpec['segments'][number]['snapshot']): RunSpec['segments'][number] => ({
    segmentId: 's',
    segmentName: 's',
    listName: 's',
    snapshot,
  });

  beforeAll(async () => {
    await writeFile(join(ROOT, 'other', 'seg.csv'), `Id,EMail\n1,${SECRET}\n`);
    await symlink(join(ROOT, 'other', 'seg.csv'), join(TENANT_DIR, 'stolen-link.csv'));
    await symlink('/dev/zero', join(TENANT_DIR, 'zero.jsonl'));
    execFileSync('mkfifo', [join(TENANT_DIR, 'fifo.csv')]);
    const sparse = await open(join(TENANT_DIR, 'sparse.csv'), 'w');
    await sparse.truncate(2 * 1024 ** 3);
    await sparse.close();
    await mkdir(join(TENANT_DIR, 'steal'));
    await writeFile(join(TENANT_DIR, 'steal', 'own.csv'), '1,own@contoso.example\n');
    await writeFile(
      join(TENANT_DIR, 'steal', 'model.json'),
      JSON.stringify({
        entities: [
          {
            name: 'E',
            attributes: [{ name: 'Id' }, { name: 'EMail' }],
            partitions: [
              { name: 'own', location: 'own.csv' },
              { name: 'stolen', location: '../../other/seg.csv' },
            ],
          },
        ],
      }),
    );
  });

  it.each([
    ["another tenant's file by absolute path", { format: 'csv', location: join(ROOT, 'other', 'seg.csv') }, 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
    ["another tenant's file by ../", { format: 'csv', location: `${TENANT_DIR}/../other/seg.csv` }, 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
    ["another tenant's file by a symbolic link", { format: 'csv', location: join(TENANT_DIR, 'stolen-link.csv') }, 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
    ["another tenant's file as a partition of model.json", { format: 'cdm-folder', location: join(TENANT_DIR, 'steal', 'model.json'), entity: 'E' }, 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
    ['file:///etc/passwd', { format: 'jsonl', location: 'file:///etc/passwd' }, 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
    ['/dev/zero linked into the tenant folder', { format: 'jsonl', location: join(TENANT_DIR, 'zero.jsonl') }, 'SNAPSHOT_OUTSIDE_TENANT_ROOT'],
    ['a FIFO in the tenant folder', { format: 'csv', location: join(TENANT_DIR, 'fifo.csv') }, 'SNAPSHOT_NOT_REGULAR_FILE'],
    ['a 2 GiB sparse file over the file cap', { format: 'csv', location: join(TENANT_DIR, 'sparse.csv') }, 'SNAPSHOT_TOO_LARGE'],
  ] as const)('fails the run on %s within seconds, delivering nothing of it', async (_name, snapshot, code) => {
    const started = Date.now();
    const sent = await extract(
      runSpec([segment(snapshot)]),
      settings({ snapshotLimits: { ...DEFAULT_SNAPSHOT_LIMITS, maxFileBytes: 1024 ** 3 } }),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(events(sent).find((e) => e.type === 'run-failed')).toMatchObject({ stage: 'extraction', code });
    expect(batches(sent).some((b) => b.kind === 'end')).toBe(false);
    expect(JSON.stringify(sent)).not.toContain(SECRET);
    expect(JSON.stringify(sent)).not.toContain('root:x:');
  });

  it('fails every location when the tenant id is not a plain name (.. in the run spec)', async () => {
    // The contract refuses such a run spec at the Kafka edge; the reader refuses it again on its own.
    const run = { ...runSpec([segment({ format: 'csv', location: join(ROOT, 'other', 'seg.csv') })]), tenantId: '..' };
    const sent: Sent[] = [];
    const publisher = {
      publish: async (topic: string, messages: { key: string; value: unknown }[]) => {
        for (const m of messages) sent.push({ topic, key: m.key, value: m.value });
      },
    } as unknown as EventPublisher;
    const service = new ExtractionService(publisher, new ExtractionMetrics(), settings(), pino({ level: 'silent' }));
    await service.extractRun(run, { correlationId: 'c', signal: new AbortController().signal });
    expect(sent.find((s) => (s.value as RunEventV1).type === 'run-failed')?.value).toMatchObject({
      code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT',
    });
    expect(JSON.stringify(sent)).not.toContain(SECRET);
  });

  it('rejects a 5 MiB JSONL line as one row and extracts the rest', async () => {
    const file = join(TENANT_DIR, 'long.jsonl');
    await writeFile(
      file,
      `{"EMail":"a@b.io"}\n{"EMail":"x@y.io","Pad":"${'p'.repeat(5 * 1024 ** 2)}"}\n{"EMail":"c@d.io"}\n`,
    );
    const sent = await extract(runSpec([segment({ format: 'jsonl', location: file })]), settings());
    const rejected = events(sent).flatMap((e) => (e.type === 'rows-rejected' ? e.rejections : []));
    expect(rejected).toEqual([{ segmentId: 's', partition: 'long.jsonl', line: 2, reason: 'line over 1048576 bytes' }]);
    expect(batches(sent).at(-1)).toMatchObject({ kind: 'end', extracted: 2, rejected: 1 });
    expect(JSON.stringify(sent)).not.toContain('pppp');
  });
});
