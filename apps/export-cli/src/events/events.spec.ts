import { PassThrough } from 'node:stream';
import { runCli } from '../cli';
import { kafkaEventPublisher } from './kafka-event-publisher';
import { checkSegmentRefreshed } from './segment-refreshed-file';

const valid = {
  eventId: 'evt-1',
  occurredAt: '2026-11-28T08:00:00Z',
  tenantId: 'contoso',
  segment: { id: 'seg-vip', name: 'VIP customers', memberCount: 3 },
  snapshot: { format: 'csv', location: 'file:///data/snapshots/contoso/vip.csv' },
};

function harness(files: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const sent: { brokers: string[]; topic: string; key: string; value: string }[] = [];
  let closed = 0;
  const run = (...argv: string[]) =>
    runCli(argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      createApi: () => {
        throw new Error('no API in these commands');
      },
      readFile: (path) => {
        if (!(path in files)) throw new Error(`ENOENT: no such file ${path}`);
        return files[path];
      },
      progressStream: new PassThrough(),
      openPublisher: (brokers) => ({
        publish: async (topic, message) => {
          sent.push({ brokers, topic, ...message });
          return { partition: 2, offset: '41' };
        },
        close: async () => {
          closed++;
        },
      }),
    });
  return { run, out, err, sent, closed: () => closed };
}

describe('checkSegmentRefreshed', () => {
  it('accepts the event of PRODUCT.md and keys it <tenantId>:<segmentId>', () => {
    const check = checkSegmentRefreshed(JSON.stringify(valid));
    expect(check).toMatchObject({ valid: true, key: 'contoso:seg-vip', event: { eventId: 'evt-1' } });
  });

  it('names every field at fault by its path', () => {
    const bad = {
      ...valid,
      occurredAt: 'yesterday',
      tenantId: 'a/b',
      segment: { id: 'seg', name: 'x', memberCount: -1 },
      snapshot: { format: 'xlsx', location: '' },
    };
    const check = checkSegmentRefreshed(JSON.stringify(bad));
    expect(check.valid).toBe(false);
    const fields = check.valid ? [] : check.problems.map((p) => p.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining([
        'occurredAt',
        'tenantId',
        'segment.memberCount',
        'snapshot.format',
        'snapshot.location',
      ]),
    );
  });

  it('says when the file is not JSON, and when a cdm-folder event has no entity', () => {
    expect(checkSegmentRefreshed('{"eventId": ')).toMatchObject({
      valid: false,
      problems: [expect.stringMatching(/^\(file\): not JSON/)],
    });
    const cdm = {
      ...valid,
      snapshot: { format: 'cdm-folder', location: 'file:///data/snapshots/contoso/model.json' },
    };
    expect(checkSegmentRefreshed(JSON.stringify(cdm))).toEqual({
      valid: false,
      problems: ['snapshot.entity: entity is required when format is cdm-folder'],
    });
  });

  it('with fresh, gives the event a new eventId and occurredAt', () => {
    const now = new Date('2026-12-01T04:00:00.000Z');
    const check = checkSegmentRefreshed(JSON.stringify(valid), { fresh: true, now: () => now });
    if (!check.valid) throw new Error(check.problems.join('; '));
    expect(check.event.eventId).not.toBe('evt-1');
    expect(JSON.parse(check.value)).toMatchObject({
      eventId: check.event.eventId,
      occurredAt: now.toISOString(),
      tenantId: 'contoso',
    });
  });
});

describe('export-cli events', () => {
  it('validate: exit 0 and a summary for a valid file', async () => {
    const h = harness({ 'e.json': JSON.stringify(valid) });
    expect(await h.run('events', 'validate', 'e.json')).toBe(0);
    expect(h.out.join('\n')).toContain('valid: eventId evt-1, key contoso:seg-vip');
  });

  it('validate: one line per field at fault on stderr, exit 1', async () => {
    const h = harness({
      'e.json': JSON.stringify({ ...valid, eventId: '', segment: { ...valid.segment, memberCount: 'many' } }),
    });
    expect(await h.run('events', 'validate', 'e.json')).toBe(1);
    expect(h.err).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^e\.json: eventId: /),
        expect.stringMatching(/^e\.json: segment\.memberCount: /),
      ]),
    );
    expect(h.err.at(-1)).toMatch(/not a valid customer-insights\.segment-refreshed\.v1 event \(2 problem/);
  });

  it('validate: a missing file is an error, exit 1', async () => {
    const h = harness({});
    expect(await h.run('events', 'validate', 'nope.json')).toBe(1);
    expect(h.err.join('\n')).toContain('nope.json');
  });

  it('publish: sends the file as given, keyed <tenantId>:<segmentId>, to the brokers given', async () => {
    const text = JSON.stringify(valid);
    const h = harness({ 'e.json': text });
    expect(await h.run('events', 'publish', 'e.json', '--brokers', 'b1:9092, b2:9092')).toBe(0);
    expect(h.sent).toEqual([
      {
        brokers: ['b1:9092', 'b2:9092'],
        topic: 'customer-insights.segment-refreshed.v1',
        key: 'contoso:seg-vip',
        value: text,
      },
    ]);
    expect(h.closed()).toBe(1);
    expect(h.out.join('\n')).toContain('partition 2 offset 41 (key contoso:seg-vip)');
  });

  it('publish: refuses an invalid event and sends nothing', async () => {
    const h = harness({ 'e.json': JSON.stringify({ ...valid, tenantId: undefined }) });
    expect(await h.run('events', 'publish', 'e.json')).toBe(1);
    expect(h.sent).toEqual([]);
    expect(h.err.join('\n')).toMatch(/tenantId: /);
  });

  it('publish --fresh: a new eventId each time', async () => {
    const h = harness({ 'e.json': JSON.stringify(valid) });
    await h.run('events', 'publish', 'e.json', '--fresh');
    await h.run('events', 'publish', 'e.json', '--fresh');
    const ids = h.sent.map((m) => (JSON.parse(m.value) as { eventId: string }).eventId);
    expect(new Set([...ids, 'evt-1']).size).toBe(3);
  });
});

describe('kafkaEventPublisher', () => {
  it('refuses incomplete SASL settings, naming the variables and never the password', () => {
    const env = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 's3cret-value' };
    expect(() => kafkaEventPublisher(['127.0.0.1:9092'], env)).toThrow(/KAFKA_SASL_USERNAME: required/);
    try {
      kafkaEventPublisher(['127.0.0.1:9092'], env);
    } catch (error) {
      expect(String(error)).not.toContain('s3cret-value');
    }
  });
});
