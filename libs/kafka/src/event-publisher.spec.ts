import { failureClass, failureCode } from '@export/errors';
import { TOPICS } from '@export/contracts';
import pino from 'pino';
import { EventPublisher } from './event-publisher';
import { event, fakeKafka, message, setup } from './topic-consumer.fixtures';

const logger = pino({ level: 'silent' });
const withName = (name: string) => ({ ...event, segment: { ...event.segment, name } });

describe('EventPublisher: contract', () => {
  it('refuses, before sending anything, a value its topic schema refuses: a permanent contract violation', async () => {
    const { kafka, sent } = fakeKafka();
    const publisher = new EventPublisher(kafka, 'test', logger);
    const invalid = { key: 'k', value: { ...event, eventId: '' } };
    const error = await publisher.publish(TOPICS.segmentRefreshed.name, [{ key: 'k', value: event }, invalid]).catch((e: unknown) => e);
    expect(failureClass(error)).toBe('permanent');
    expect((error as Error).message).toMatch(/^Refusing to publish an invalid customer-insights\.segment-refreshed\.v1 message: eventId: /);
    expect(sent).toEqual([]);
  });

  it('sends what the schema gives (unknown keys dropped), and a prevalidated value as it is', async () => {
    const { kafka, sent } = fakeKafka();
    const publisher = new EventPublisher(kafka, 'test', logger);
    const value = { ...event, extra: 'dropped' };
    await publisher.publish(TOPICS.segmentRefreshed.name, [{ key: 'k', value }]);
    await publisher.publish(TOPICS.segmentRefreshed.name, [{ key: 'k', value: event }], { prevalidated: true });
    expect(sent.map((s) => JSON.parse(s.messages[0].value))).toEqual([event, event]);
  });

  it('checks the size of a prevalidated value all the same', async () => {
    const { kafka, sent } = fakeKafka();
    const publisher = new EventPublisher(kafka, 'test', logger, { maxMessageBytes: 500 });
    const error = await publisher
      .publish(TOPICS.segmentRefreshed.name, [{ key: 'k', value: withName('x'.repeat(600)) }], { prevalidated: true })
      .catch((e: unknown) => e);
    expect(failureCode(error)).toBe('MESSAGE_TOO_LARGE');
    expect(sent).toEqual([]);
  });
});

describe('EventPublisher: message size', () => {
  it('refuses, before sending anything, a message over the configured maximum: a permanent MESSAGE_TOO_LARGE', async () => {
    const { kafka, sent } = fakeKafka();
    const publisher = new EventPublisher(kafka, 'test', logger, { maxMessageBytes: 2000 });
    const small = { key: 'k', value: withName('small') };
    const large = { key: 'k', value: { ...event, eventId: 'e'.repeat(200), snapshot: { ...event.snapshot, location: `/${'x'.repeat(3000)}` } } };
    const error = await publisher.publish(TOPICS.segmentRefreshed.name, [small, large]).catch((e: unknown) => e);
    expect(failureClass(error)).toBe('permanent');
    expect(failureCode(error)).toBe('MESSAGE_TOO_LARGE');
    expect((error as Error).message).toMatch(/customer-insights\.segment-refreshed\.v1 message of \d+ bytes: it is over the maximum of 2000 bytes/);
    expect(sent).toEqual([]);
  });

  it('splits one publish into several sends that each stay under the maximum, in order', async () => {
    const { kafka, sent } = fakeKafka();
    const publisher = new EventPublisher(kafka, 'test', logger, { maxMessageBytes: 2000 });
    const messages = Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: withName(`segment ${i} ${'n'.repeat(300)}`) }));
    await publisher.publish(TOPICS.segmentRefreshed.name, messages);
    expect(sent.length).toBeGreaterThan(1);
    for (const send of sent) {
      const bytes = send.messages.reduce((sum, m) => sum + Buffer.byteLength(m.value) + Buffer.byteLength(m.key), 0);
      expect(bytes).toBeLessThanOrEqual(2000);
    }
    const names = sent.flatMap((s) => s.messages.map((m) => (JSON.parse(m.value) as typeof event).segment.name.split(' ')[1]));
    expect(names).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('defaults to a maximum under the broker default of 1 MiB', async () => {
    const { kafka, sent } = fakeKafka();
    const publisher = new EventPublisher(kafka, 'test', logger);
    const huge = { key: 'k', value: withName('x'.repeat(400)) };
    await publisher.publish(TOPICS.segmentRefreshed.name, [huge]);
    expect(sent).toHaveLength(1);
    expect(publisher.maxMessageBytes).toBeLessThan(1024 * 1024);
  });

  it('makes a consumer dead-letter the message whose output is too large, and move on', async () => {
    const strict: { publisher?: EventPublisher } = {};
    const { consumer, deliver, sent, kafka } = setup('g-size', async () => {
      await strict.publisher?.publish(TOPICS.segmentRefreshed.name, [{ key: 'k', value: withName('y'.repeat(500)) }]);
    });
    strict.publisher = new EventPublisher(kafka, 'test', logger, { maxMessageBytes: 600 });
    await consumer.start();
    const resolved = await deliver([message('5', JSON.stringify(event)), message('6', JSON.stringify(event))], '7');
    expect(resolved).toEqual(['5', '6']);
    const letters = sent.filter((s) => s.topic === TOPICS.deadLetter.name).flatMap((s) => s.messages.map((m) => JSON.parse(m.value)));
    expect(letters.map((l: { code: string; offset: string }) => [l.offset, l.code])).toEqual([
      ['5', 'MESSAGE_TOO_LARGE'],
      ['6', 'MESSAGE_TOO_LARGE'],
    ]);
  });
});
