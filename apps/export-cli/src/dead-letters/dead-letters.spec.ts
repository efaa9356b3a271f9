import { PassThrough } from 'node:stream';
import { TOPICS, type DeadLetterV1 } from '@export/contracts';
import { runCli } from '../cli';
import { REPLAYED_FROM_HEADER, type DeadLetterRecord, type DeadLetterTopic } from './dead-letters';

const letter = (overrides: Partial<DeadLetterV1> = {}): DeadLetterV1 => ({
  sourceTopic: TOPICS.segmentRefreshed.name,
  partition: 3,
  offset: '41',
  key: 'contoso:seg-vip',
  value: '{"eventId":"e1","secret":"jane@example.com"}',
  reason: 'segment.name: must not contain NUL',
  code: 'SCHEMA_MISMATCH',
  consumerGroup: 'connection-management',
  failedAt: '2026-11-30T10:00:00.000Z',
  ...overrides,
});

/** A dead-letter topic in memory: what was read and published is recorded. */
function fakeTopic(records: DeadLetterRecord[]) {
  const published: { topic: string; key: string | null; value: string; headers: Record<string, string> }[] = [];
  const brokers: string[][] = [];
  let closed = 0;
  const topic: DeadLetterTopic = {
    read: async (name) => (name === TOPICS.deadLetter.name ? records : []),
    publish: async (name, message) => void published.push({ topic: name, ...message }),
    close: async () => void closed++,
  };
  const out: string[] = [];
  const err: string[] = [];
  const run = (...argv: string[]) =>
    runCli(argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      createApi: () => {
        throw new Error('the REST API is not used by dead-letters');
      },
      readFile: () => '',
      progressStream: new PassThrough(),
      openDeadLetters: (b) => {
        brokers.push(b);
        return topic;
      },
    });
  return { run, out, err, published, brokers, closed: () => closed };
}

const record = (offset: number, value: DeadLetterV1 | string | null, headers: Record<string, string> = {}) => ({
  partition: 0,
  offset: String(offset),
  timestamp: String(Date.parse('2026-11-30T10:00:00Z')),
  key: 'k',
  value: value === null || typeof value === 'string' ? value : JSON.stringify(value),
  headers,
});

describe('export-cli dead-letters', () => {
  const records = [
    record(0, letter()),
    record(1, letter({ code: 'INVALID_JSON', sourceTopic: TOPICS.runEvents.name, key: 'run-1', value: '{oops' }), {
      'x-correlation-id': 'corr-1',
    }),
    record(2, 'not json at all'),
    record(3, letter({ code: 'INVALID_JSON', value: 'x'.repeat(64 * 1024) })),
    record(4, letter({ code: 'INVALID_JSON', value: null, failedAt: '2026-11-30T12:00:00.000Z' })),
  ];

  it('lists code, reason, source, key and time, never the value unless --show-value', async () => {
    const cli = fakeTopic(records);
    expect(await cli.run('dead-letters', 'list', '--brokers', 'b1:9092,b2:9092')).toBe(0);
    expect(cli.brokers).toEqual([['b1:9092', 'b2:9092']]);
    const text = cli.out.join('\n');
    expect(text).toContain('SCHEMA_MISMATCH');
    expect(text).toContain(`${TOPICS.segmentRefreshed.name}/3/41`);
    expect(text).toContain('contoso:seg-vip');
    expect(text).toContain('2026-11-30T10:00:00.000Z');
    expect(text).toContain('UNREADABLE_DEAD_LETTER');
    expect(text).not.toContain('jane@example.com');
    expect(text).not.toContain('not json at all');
    expect(cli.closed()).toBe(1);

    const shown = fakeTopic(records);
    await shown.run('--json', 'dead-letters', 'list', '--code', 'SCHEMA_MISMATCH', '--show-value');
    expect(JSON.parse(shown.out.join('\n'))).toEqual([
      expect.objectContaining({ offset: '0', code: 'SCHEMA_MISMATCH', value: letter().value }),
    ]);
  });

  it('filters by code, source topic, key and time, and keeps the newest --limit', async () => {
    const cli = fakeTopic(records);
    await cli.run('--json', 'dead-letters', 'list', '--code', 'INVALID_JSON', '--limit', '2');
    expect(JSON.parse(cli.out.join('\n')).map((l: { offset: string }) => l.offset)).toEqual(['3', '4']);
    const bySource = fakeTopic(records);
    await bySource.run('--json', 'dead-letters', 'list', '--source-topic', TOPICS.runEvents.name, '--key', 'run-1');
    expect(JSON.parse(bySource.out.join('\n')).map((l: { offset: string }) => l.offset)).toEqual(['1']);
    const since = fakeTopic(records);
    await since.run('--json', 'dead-letters', 'list', '--since', '2026-11-30T11:00:00Z');
    expect(JSON.parse(since.out.join('\n')).map((l: { offset: string }) => l.offset)).toEqual(['4']);
    const bad = fakeTopic(records);
    expect(await bad.run('dead-letters', 'list', '--since', 'yesterday')).not.toBe(0);
  });

  it('replays the original value to its source topic with its key and a header marking the replay', async () => {
    const cli = fakeTopic(records);
    expect(await cli.run('dead-letters', 'replay', '--offset', '0', '--offset', '1')).toBe(0);
    expect(cli.published).toEqual([
      {
        topic: TOPICS.segmentRefreshed.name,
        key: 'contoso:seg-vip',
        value: letter().value,
        headers: { [REPLAYED_FROM_HEADER]: `${TOPICS.deadLetter.name}/0/0`, 'x-producer': 'export-cli' },
      },
      {
        topic: TOPICS.runEvents.name,
        key: 'run-1',
        value: '{oops',
        headers: {
          [REPLAYED_FROM_HEADER]: `${TOPICS.deadLetter.name}/0/1`,
          'x-producer': 'export-cli',
          'x-correlation-id': 'corr-1',
        },
      },
    ]);
    expect(cli.err.join('\n')).toContain('replayed 2 of 2');
  });

  it('never replays a cut or missing value, and replays nothing without a selection', async () => {
    const cli = fakeTopic(records);
    await cli.run('--json', 'dead-letters', 'replay', '--code', 'INVALID_JSON', '--since', '2026-11-30T10:00:00Z');
    const outcomes = JSON.parse(cli.out.join('\n')) as { offset: string; result: string; why?: string }[];
    expect(outcomes.map((o) => [o.offset, o.result])).toEqual([
      ['1', 'replayed'],
      ['3', 'skipped'],
      ['4', 'skipped'],
    ]);
    expect(outcomes[1].why).toContain('cut at 64 KiB');
    expect(cli.published.map((p) => p.value)).toEqual(['{oops']);

    const unselected = fakeTopic(records);
    expect(await unselected.run('dead-letters', 'replay')).not.toBe(0);
    expect(unselected.err.join('\n')).toContain('--offset');
    expect(unselected.published).toEqual([]);

    const dry = fakeTopic(records);
    await dry.run('dead-letters', 'replay', '--all', '--dry-run');
    expect(dry.published).toEqual([]);
    expect(dry.err.join('\n')).toContain('would replay 2 of 5');
  });
});
