import { AppError } from '@export/errors';
import { HEADERS, TOPICS } from '@export/contracts';
import { kafkaMetrics } from './kafka.metrics';
import { event, message, setup, topic } from './topic-consumer.fixtures';
import { parseTraceparent } from './trace-context';

async function metricValue(metric: { get(): Promise<{ values: { value: number; labels: object }[] }> }, labels: object) {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))?.value;
}

describe('TopicConsumer and EventPublisher: trace context', () => {
  it('continues the trace of a consumed message in every message the handler produces', async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { consumer, deliver, sent } = setup('g-trace', async ({ value, correlationId }, publisher) => {
      // Later in the handler, after an await, as handlers do: the async scope still holds the message's span.
      await new Promise((resolve) => setImmediate(resolve));
      await publisher.publish(topic, [{ key: 'a', value }], { correlationId });
      await publisher.publish(topic, [{ key: 'b', value }], { correlationId });
    });
    await consumer.start();
    await deliver(
      [message('5', JSON.stringify(event), { [HEADERS.traceparent]: incoming, [HEADERS.correlationId]: 'corr-1' })],
      '6',
    );

    expect(sent).toHaveLength(2);
    const spans = sent.map((s) => parseTraceparent(s.messages[0].headers[HEADERS.traceparent]));
    for (const span of spans) {
      expect(span?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(span?.flags).toBe('01');
      expect(span?.spanId).not.toBe('00f067aa0ba902b7');
    }
    expect(spans[0]?.spanId).not.toBe(spans[1]?.spanId);
    expect(sent[0].messages[0].headers[HEADERS.correlationId]).toBe('corr-1');
  });

  it("starts the correlation id's trace when the consumed message has no traceparent", async () => {
    const correlationId = '5f0c2d7e-7d1c-4a59-9d3b-8f7f0f0c1a11';
    const seen: string[] = [];
    const { consumer, deliver, sent } = setup('g-root', async (m, publisher) => {
      seen.push(m.traceparent);
      await publisher.publish(topic, [{ key: 'a', value: m.value }], { correlationId: m.correlationId });
    });
    await consumer.start();
    await deliver([message('0', JSON.stringify(event), { [HEADERS.correlationId]: correlationId })], '1');

    expect(parseTraceparent(seen[0])?.traceId).toBe('5f0c2d7e7d1c4a599d3b8f7f0f0c1a11');
    expect(parseTraceparent(sent[0].messages[0].headers[HEADERS.traceparent])?.traceId).toBe(
      '5f0c2d7e7d1c4a599d3b8f7f0f0c1a11',
    );
  });

  it('gives work outside a handler (outbox, sender loop) the trace of its correlation id', async () => {
    const { publisher, sent } = setup('g-outside', async () => undefined);
    await publisher.publish(topic, [{ key: 'a', value: event }], { correlationId: '5f0c2d7e-7d1c-4a59-9d3b-8f7f0f0c1a11' });
    expect(parseTraceparent(sent[0].messages[0].headers[HEADERS.traceparent])?.traceId).toBe(
      '5f0c2d7e7d1c4a599d3b8f7f0f0c1a11',
    );
  });
});

describe('TopicConsumer and EventPublisher: metrics', () => {
  it('counts consumed and produced messages and sets the lag per partition', async () => {
    const producedBefore = (await metricValue(kafkaMetrics.produced, { topic })) ?? 0;
    const { consumer, deliver } = setup('g-metrics', async ({ value }, publisher) => {
      await publisher.publish(topic, [{ key: 'a', value }]);
    });
    await consumer.start();
    const resolved = await deliver([message('7', JSON.stringify(event)), message('8', JSON.stringify(event))], '12');

    expect(resolved).toEqual(['7', '8']);
    expect(await metricValue(kafkaMetrics.consumed, { group: 'g-metrics', topic })).toBe(2);
    expect(await metricValue(kafkaMetrics.produced, { topic })).toBe(producedBefore + 2);
    // High watermark 12, last handled offset 8: offsets 9, 10, 11 are still to come.
    expect(await metricValue(kafkaMetrics.consumerLag, { group: 'g-metrics', topic, partition: '2' })).toBe(3);
  });

  it('counts dead letters by code and retries in place', async () => {
    let attempts = 0;
    const { consumer, deliver, sent } = setup('g-dlq', async () => {
      attempts++;
      if (attempts < 3) throw new AppError('upstream-unavailable', 'database down');
    });
    await consumer.start();
    await deliver([message('0', 'not json'), message('1', JSON.stringify(event))], '2');

    expect(await metricValue(kafkaMetrics.deadLetters, { group: 'g-dlq', topic, code: 'INVALID_JSON' })).toBe(1);
    expect(sent.map((s) => s.topic)).toEqual([TOPICS.deadLetter.name]);
    expect(await metricValue(kafkaMetrics.handlerRetries, { group: 'g-dlq', topic })).toBe(2);
    expect(await metricValue(kafkaMetrics.consumed, { group: 'g-dlq', topic })).toBe(2);
  });

  it('pauses only once running, re-applies the pause after start and reports it', async () => {
    const { consumer, kafkaConsumer } = setup('g-pause', async () => undefined);
    consumer.pause();
    expect(kafkaConsumer.pause).not.toHaveBeenCalled();
    await consumer.start();
    expect(kafkaConsumer.pause).toHaveBeenCalledWith([{ topic }]);
    expect(await metricValue(kafkaMetrics.paused, { group: 'g-pause' })).toBe(1);
    consumer.resume();
    expect(kafkaConsumer.resume).toHaveBeenCalledWith([{ topic }]);
    expect(await metricValue(kafkaMetrics.paused, { group: 'g-pause' })).toBe(0);
  });
});
