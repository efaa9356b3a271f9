import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { DeadLetterV1 } from '@export/contracts';
import { collectMessages, produceRaw, testKafka, TEST_KAFKA_BROKERS, expectEventually } from '@export/testing';
import { runCli } from '../src/cli';
import { REPLAYED_FROM_HEADER } from '../src/dead-letters/dead-letters';
import { kafkaDeadLetterTopic } from '../src/dead-letters/kafka-dead-letter-topic';

/** `export-cli dead-letters` against the real broker, on topics of its own (the shared ones are left alone). */
describe('export-cli dead-letters on the real broker', () => {
  const suffix = randomUUID().slice(0, 8);
  const deadLetterTopic = `it-dead-letter-${suffix}`;
  const sourceTopic = `it-source-${suffix}`;
  const admin = testKafka().admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: deadLetterTopic, numPartitions: 1, replicationFactor: 1 },
        { topic: sourceTopic, numPartitions: 2, replicationFactor: 1 },
      ],
      waitForLeaders: true,
    });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [deadLetterTopic, sourceTopic] }).catch(() => undefined);
    await admin.disconnect();
  });

  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--json', ...argv, '--brokers', TEST_KAFKA_BROKERS.join(','), '--topic', deadLetterTopic], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      createApi: () => {
        throw new Error('not used');
      },
      readFile: () => '',
      progressStream: new PassThrough(),
      openDeadLetters: kafkaDeadLetterTopic,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('lists the letters without their values and replays one to its source topic, marked', async () => {
    const letter = (n: number): DeadLetterV1 => ({
      sourceTopic,
      partition: 0,
      offset: String(100 + n),
      key: `key-${n}`,
      value: JSON.stringify({ n, email: `person${n}@example.com` }),
      reason: `reason ${n}`,
      code: n === 1 ? 'NON_RETRYABLE' : 'SCHEMA_MISMATCH',
      consumerGroup: 'it',
      failedAt: new Date().toISOString(),
    });
    await produceRaw(
      deadLetterTopic,
      [0, 1, 2].map((n) => ({
        key: `key-${n}`,
        value: JSON.stringify(letter(n)),
        headers: { 'x-correlation-id': `corr-${n}` },
      })),
    );

    const listed = await cli('dead-letters', 'list');
    expect(listed.code).toBe(0);
    const letters = JSON.parse(listed.out) as { offset: string; code: string; key: string; source: string }[];
    expect(letters.map((l) => [l.offset, l.code, l.key, l.source])).toEqual([
      ['0', 'SCHEMA_MISMATCH', 'key-0', `${sourceTopic}/0/100`],
      ['1', 'NON_RETRYABLE', 'key-1', `${sourceTopic}/0/101`],
      ['2', 'SCHEMA_MISMATCH', 'key-2', `${sourceTopic}/0/102`],
    ]);
    expect(listed.out).not.toContain('@example.com');

    const replayed = await collectMessages([sourceTopic]);
    try {
      const replay = await cli('dead-letters', 'replay', '--code', 'NON_RETRYABLE');
      expect(replay.code).toBe(0);
      const [message] = await expectEventually(() => replayed.messages.length > 0 && replayed.messages, {
        message: 'the replayed message on its source topic',
      });
      expect(message).toMatchObject({
        topic: sourceTopic,
        key: 'key-1',
        value: letter(1).value,
        headers: expect.objectContaining({
          [REPLAYED_FROM_HEADER]: `${deadLetterTopic}/0/1`,
          'x-correlation-id': 'corr-1',
        }),
      });
      expect(replayed.messages).toHaveLength(1);
    } finally {
      await replayed.stop();
    }
  });
});
