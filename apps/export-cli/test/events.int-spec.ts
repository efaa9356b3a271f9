import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { collectMessages, expectEventually, testKafka, TEST_KAFKA_BROKERS } from '@export/testing';
import { runCli } from '../src/cli';
import { kafkaEventPublisher } from '../src/events/kafka-event-publisher';

/** `export-cli events publish` against the real broker, on a topic of its own (the shared one is left alone). */
describe('export-cli events publish on the real broker', () => {
  const topic = `it-segment-refreshed-${randomUUID().slice(0, 8)}`;
  const admin = testKafka().admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('publishes a validated event keyed <tenantId>:<segmentId>; an invalid one never reaches the topic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'events-int-'));
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    const event = {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      tenantId: 'contoso',
      segment: { id: 'seg-vip', name: 'VIP customers', memberCount: 2 },
      snapshot: { format: 'csv', location: 'file:///data/snapshots/contoso/vip.csv' },
    };
    writeFileSync(good, JSON.stringify(event));
    writeFileSync(bad, JSON.stringify({ ...event, eventId: randomUUID(), snapshot: { format: 'xlsx' } }));
    const collector = await collectMessages([topic]);
    const cli = async (file: string) => {
      const err: string[] = [];
      const code = await runCli(
        ['events', 'publish', file, '--brokers', TEST_KAFKA_BROKERS.join(','), '--topic', topic],
        {
          out: () => undefined,
          err: (t) => err.push(t),
          createApi: () => {
            throw new Error('not used');
          },
          readFile: (path) => readFileSync(path, 'utf8'),
          progressStream: new PassThrough(),
          openPublisher: (brokers) => kafkaEventPublisher(brokers, {}),
        },
      );
      return { code, err: err.join('\n') };
    };
    try {
      expect(await cli(bad)).toMatchObject({ code: 1, err: expect.stringMatching(/snapshot\.format/) });
      expect((await cli(good)).code).toBe(0);
      await expectEventually(() => collector.messages.length >= 1);
      expect(collector.messages).toHaveLength(1);
      expect(collector.messages[0]).toMatchObject({ key: 'contoso:seg-vip' });
      expect(JSON.parse(collector.messages[0].value ?? '')).toEqual(event);
    } finally {
      await collector.stop();
    }
  });
});
