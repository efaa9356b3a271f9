import { ContactsMappedV1, RunEventV1, TOPICS, type ExtractedRow, type RunSpec } from '@export/contracts';
import type { EventPublisher } from '@export/kafka';
import pino from 'pino';
import { MappingMetrics } from './mapping.metrics';
import { MappingService } from './mapping.service';

interface Sent {
  topic: string;
  key: string;
  value: unknown;
  correlationId?: string;
  prevalidated?: boolean;
}

/** Parses every output with its contract; a prevalidated one must be exactly what its schema gives. */
function fakePublisher(sent: Sent[]): EventPublisher {
  return {
    publish: async (
      topic: string,
      messages: { key: string; value: unknown }[],
      context: { correlationId?: string; prevalidated?: boolean } = {},
    ) => {
      for (const m of messages) {
        const value =
          topic === TOPICS.runEvents.name ? RunEventV1.parse(m.value) : ContactsMappedV1.parse(m.value);
        if (context.prevalidated) expect(JSON.stringify(m.value)).toBe(JSON.stringify(value));
        sent.push({ topic, key: m.key, value, correlationId: context.correlationId, prevalidated: context.prevalidated });
      }
    },
  } as unknown as EventPublisher;
}

const run: RunSpec = {
  runId: '7d4f2a10-3c1b-4e2a-9f3e-0a1b2c3d4e5f',
  tenantId: 'contoso',
  exportId: 'exp-1',
  connectionId: 'conn-1',
  trigger: 'on-demand',
  segments: [
    {
      segmentId: 'seg-1',
      segmentName: 'Seg',
      listName: 'Seg',
      snapshot: { format: 'cdm-folder', location: '/x/model.json', entity: 'E' },
    },
  ],
  mapping: { email: 'EMail', firstName: 'FirstName', lastName: 'LastName' },
  limitPolicy: 'skip',
  profileLimit: 100_000,
  quotaPerMonth: null,
};

const row = (seq: number, values: Record<string, string | null>): ExtractedRow => ({
  seq,
  partition: 'part-1',
  line: seq + 1,
  values,
});

const SETTINGS = { maxBatchBytes: 512 * 1024 };

function service(sent: Sent[], settings = SETTINGS): MappingService {
  return new MappingService(fakePublisher(sent), new MappingMetrics(), pino({ level: 'silent' }), settings);
}

describe('MappingService', () => {
  it('maps a batch into one contacts batch with the same batchSeq and reports rejections with row identity', async () => {
    const sent: Sent[] = [];
    const rows = [
      row(0, {
        CustomerId: 'C-0001',
        EMail: ' Anna.Rossi@Example.com ',
        FirstName: 'Anna',
        LastName: 'Rossi',
      }),
      row(1, { CustomerId: 'C-0003', EMail: null, FirstName: 'Luca', LastName: 'Verdi' }),
      row(2, { EMail: 'not-an-email', FirstName: 'Sara', LastName: null }),
    ];
    await service(sent).handle({ kind: 'batch', run, batchSeq: 7, segmentId: 'seg-1', rows }, 'corr-9');

    const mapped = sent.filter((s) => s.topic === TOPICS.contactsMapped.name);
    expect(mapped).toHaveLength(1);
    // Contacts are built to the contract (parsed above); rejections carry reasons and go through the schema.
    expect(mapped[0]).toMatchObject({ key: run.runId, correlationId: 'corr-9', prevalidated: true });
    expect(sent.filter((s) => s.topic === TOPICS.runEvents.name && s.prevalidated)).toEqual([]);
    expect(mapped[0].value).toEqual({
      kind: 'batch',
      run,
      batchSeq: 7,
      rejected: 2,
      contacts: [
        {
          seq: 0,
          email: 'anna.rossi@example.com',
          segmentId: 'seg-1',
          contact: { Email: 'anna.rossi@example.com', FirstName: 'Anna', LastName: 'Rossi' },
        },
      ],
    });
    const events = sent.filter((s) => s.topic === TOPICS.runEvents.name).map((s) => s.value);
    expect(events).toEqual([
      {
        type: 'rows-rejected',
        runId: run.runId,
        tenantId: 'contoso',
        at: expect.any(String),
        stage: 'mapping',
        rejections: [
          {
            segmentId: 'seg-1',
            partition: 'part-1',
            line: 2,
            profileId: 'C-0003',
            reason: 'missing e-mail (attribute EMail)',
          },
          {
            segmentId: 'seg-1',
            partition: 'part-1',
            line: 3,
            reason: 'invalid e-mail "not-an-email" (attribute EMail)',
          },
        ],
      },
    ]);
  });

  it('publishes an empty batch when every row is rejected, and splits rejections into events of 500', async () => {
    const sent: Sent[] = [];
    const rows = Array.from({ length: 1001 }, (_, i) => row(i, { EMail: '' }));
    await service(sent).handle({ kind: 'batch', run, batchSeq: 0, segmentId: 'seg-1', rows }, 'c');
    const events = sent
      .filter((s) => s.topic === TOPICS.runEvents.name)
      .map((s) => s.value as Extract<RunEventV1, { type: 'rows-rejected' }>);
    expect(events.map((e) => e.rejections.length)).toEqual([500, 500, 1]);
    expect(sent.filter((s) => s.topic === TOPICS.contactsMapped.name).map((s) => s.value)).toEqual([
      { kind: 'batch', run, batchSeq: 0, contacts: [], rejected: 1001 },
    ]);
  });

  describe('mapped batches over the size cap', () => {
    // 30 custom string fields of 4 KiB each: 256 KiB of input rows map to ~2.4 MiB of contacts.
    const custom = Array.from({ length: 30 }, (_, i) => ({ attribute: `Attr${i}`, field: `Field ${i}`, type: 'string' as const }));
    const wide: RunSpec = { ...run, mapping: { ...run.mapping, custom } };
    const wideRow = (seq: number) =>
      row(seq, {
        EMail: `p${seq}@example.com`,
        FirstName: `P${seq}`,
        ...Object.fromEntries(custom.map((c) => [c.attribute, `${c.attribute}:${seq}:`.padEnd(4096, 'v')])),
      });
    const encoded = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

    it('splits a batch into parts under the cap: same batchSeq, part i of n, every contact once in order, rejections on part 0', async () => {
      const sent: Sent[] = [];
      const rows = [...Array.from({ length: 20 }, (_, i) => wideRow(i)), row(20, { EMail: 'bad' })];
      await service(sent).handle({ kind: 'batch', run: wide, batchSeq: 4, segmentId: 'seg-1', rows }, 'c');
      const parts = sent
        .filter((s) => s.topic === TOPICS.contactsMapped.name)
        .map((s) => s.value as Extract<ContactsMappedV1, { kind: 'batch' }>);
      expect(parts.length).toBeGreaterThanOrEqual(4);
      expect(parts.map((p) => [p.batchSeq, p.part, p.parts])).toEqual(parts.map((_, i) => [4, i, parts.length]));
      for (const part of parts) expect(encoded(part)).toBeLessThanOrEqual(SETTINGS.maxBatchBytes);
      expect(parts.flatMap((p) => p.contacts.map((c) => c.seq))).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(parts.map((p) => p.rejected)).toEqual([1, ...parts.slice(1).map(() => 0)]);
    });

    it('keeps a batch under the cap as one message without part/parts (as before parts existed)', async () => {
      const sent: Sent[] = [];
      await service(sent).handle({ kind: 'batch', run: wide, batchSeq: 1, segmentId: 'seg-1', rows: [wideRow(0)] }, 'c');
      const mapped = sent.filter((s) => s.topic === TOPICS.contactsMapped.name).map((s) => s.value as Record<string, unknown>);
      expect(mapped).toHaveLength(1);
      expect(mapped[0]).not.toHaveProperty('part');
      expect(mapped[0]).not.toHaveProperty('parts');
    });

    it('rejects a row whose contact alone would not fit in a message, and maps the others', async () => {
      const sent: Sent[] = [];
      const settings = { ...SETTINGS, maxBatchBytes: 64 * 1024 };
      const rows = [wideRow(0), row(1, { EMail: 'ok@example.com' })];
      await service(sent, settings).handle({ kind: 'batch', run: wide, batchSeq: 0, segmentId: 'seg-1', rows }, 'c');
      const mapped = sent.filter((s) => s.topic === TOPICS.contactsMapped.name).map((s) => s.value as Extract<ContactsMappedV1, { kind: 'batch' }>);
      expect(mapped.flatMap((m) => m.contacts.map((c) => c.email))).toEqual(['ok@example.com']);
      const rejections = sent
        .filter((s) => s.topic === TOPICS.runEvents.name)
        .flatMap((s) => (s.value as Extract<RunEventV1, { type: 'rows-rejected' }>).rejections);
      expect(rejections).toEqual([
        { segmentId: 'seg-1', partition: 'part-1', line: 1, reason: expect.stringMatching(/^mapped contact of \d+ bytes is over the \d+ bytes a message may carry$/) },
      ]);
    });
  });

  it('rejects a row with a NUL in a mapped value, naming the attribute, and keeps NUL out of every rejection field', async () => {
    const sent: Sent[] = [];
    const rows = [
      row(0, { CustomerId: 'C-\u00001', EMail: 'a@example.com', FirstName: 'A\u0000da', LastName: 'L' }),
      row(1, { CustomerId: 'C-2', EMail: 'b@example.com', FirstName: 'B', LastName: 'L' }),
    ];
    await service(sent).handle({ kind: 'batch', run, batchSeq: 0, segmentId: 'seg-1', rows }, 'c');
    const mapped = sent.filter((s) => s.topic === TOPICS.contactsMapped.name).map((s) => s.value as Extract<ContactsMappedV1, { kind: 'batch' }>);
    expect(mapped.flatMap((m) => m.contacts.map((c) => c.email))).toEqual(['b@example.com']);
    const rejections = sent
      .filter((s) => s.topic === TOPICS.runEvents.name)
      .flatMap((s) => (s.value as Extract<RunEventV1, { type: 'rows-rejected' }>).rejections);
    expect(rejections).toEqual([
      { segmentId: 'seg-1', partition: 'part-1', line: 1, profileId: 'C-?1', reason: 'invalid value (attribute FirstName): holds a NUL character' },
    ]);
  });

  it('keeps a rejection profile id storable: no unpaired surrogate, none made by cutting it at 200', async () => {
    const sent: Sent[] = [];
    const rows = [
      row(0, { CustomerId: 'C\ud800', EMail: '' }),
      row(1, { CustomerId: `${'x'.repeat(199)}\ud83d\ude00`, EMail: '' }),
    ];
    await service(sent).handle({ kind: 'batch', run, batchSeq: 0, segmentId: 'seg-1', rows }, 'c');
    const ids = sent
      .filter((s) => s.topic === TOPICS.runEvents.name)
      .flatMap((s) => (s.value as Extract<RunEventV1, { type: 'rows-rejected' }>).rejections.map((r) => r.profileId));
    expect(ids).toEqual(['C\uFFFD', 'x'.repeat(199)]);
  });

  it('forwards end with the totals', async () => {
    const sent: Sent[] = [];
    await service(sent).handle({ kind: 'end', run, batches: 3, extracted: 1200, rejected: 4 }, 'c');
    expect(sent).toEqual([
      {
        topic: TOPICS.contactsMapped.name,
        key: run.runId,
        value: { kind: 'end', run, batches: 3, extracted: 1200 },
        correlationId: 'c',
      },
    ]);
  });

  it('fails, so the message is retried, when a publish fails', async () => {
    const publisher = {
      publish: async (topic: string) => {
        if (topic === TOPICS.runEvents.name) throw new Error('broker down');
      },
    } as unknown as EventPublisher;
    const mapping = new MappingService(publisher, new MappingMetrics(), pino({ level: 'silent' }), SETTINGS);
    await expect(
      mapping.handle(
        { kind: 'batch', run, batchSeq: 0, segmentId: 'seg-1', rows: [row(0, { EMail: '' })] },
        'c',
      ),
    ).rejects.toThrow('broker down');
  });
});
