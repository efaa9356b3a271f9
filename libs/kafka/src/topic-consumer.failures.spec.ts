import { TOPICS, type ProfilesExtractedV1 } from '@export/contracts';
import { AppError } from '@export/errors';
import { event, message, setup, topic } from './topic-consumer.fixtures';

const pgError = (code: string, text: string) => Object.assign(new Error(text), { code, severity: 'ERROR' });
const letters = (sent: { topic: string; messages: { value: string }[] }[], name: string) =>
  sent.filter((s) => s.topic === name).flatMap((s) => s.messages.map((m) => JSON.parse(m.value)));
const valueOf = (eventId: string) => JSON.stringify({ ...event, eventId });

describe('TopicConsumer: a failure never blocks the partition', () => {
  it('dead-letters a message that can never succeed (SQLSTATE 22021, a NUL) at once and goes on', async () => {
    const handled: string[] = [];
    const { consumer, deliver, sent } = setup('g-permanent', async ({ value }) => {
      handled.push(value.eventId);
      if (value.eventId === 'poison') throw pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00');
    });
    await consumer.start();
    const resolved = await deliver([message('0', valueOf('poison')), message('1', valueOf('next'))], '2');
    expect(handled).toEqual(['poison', 'next']);
    expect(resolved).toEqual(['0', '1']);
    const [letter] = letters(sent, TOPICS.deadLetter.name);
    expect(letter).toMatchObject({ code: 'SQLSTATE_22021', offset: '0', sourceTopic: topic });
    expect(letter.reason).toContain('invalid byte sequence');
  });

  it.each([
    ['a RangeError (deeply nested value)', () => new RangeError('Maximum call stack size exceeded'), 'RANGE_ERROR'],
    ['a message too large for the broker', () => Object.assign(new Error('too large'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE' }), 'MESSAGE_TOO_LARGE'],
  ])('dead-letters %s at once', async (_name, makeError, code) => {
    let calls = 0;
    const { consumer, deliver, sent } = setup('g-permanent-2', async () => {
      calls++;
      throw makeError();
    });
    await consumer.start();
    await deliver([message('0', valueOf('x'))], '1');
    expect(calls).toBe(1);
    expect(letters(sent, TOPICS.deadLetter.name)[0]).toMatchObject({ code });
  });

  it('retries a failure that may pass up to the attempt bound, then dead-letters it and goes on', async () => {
    let calls = 0;
    const { consumer, deliver, sent } = setup(
      'g-transient',
      async ({ value }) => {
        if (value.eventId !== 'stuck') return;
        calls++;
        throw new Error('something odd');
      },
      { maxAttempts: 4 },
    );
    await consumer.start();
    const resolved = await deliver([message('0', valueOf('stuck')), message('1', valueOf('next'))], '2');
    expect(calls).toBe(4);
    expect(resolved).toEqual(['0', '1']);
    const [letter] = letters(sent, TOPICS.deadLetter.name);
    expect(letter).toMatchObject({ code: 'RETRIES_EXHAUSTED' });
    expect(letter.reason).toContain('4 attempts');
  });

  it('retries by default within a bound (not forever): time bound reached before the attempts', async () => {
    let calls = 0;
    const { consumer, deliver, sent } = setup(
      'g-transient-time',
      async () => {
        calls++;
        throw pgError('40P01', 'deadlock detected');
      },
      { maxAttempts: 1000, maxRetryMs: 50, retryInitialDelayMs: 10, retryMaxDelayMs: 10 },
    );
    await consumer.start();
    await deliver([message('0', valueOf('x'))], '1');
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(1000);
    expect(letters(sent, TOPICS.deadLetter.name)[0]).toMatchObject({ code: 'RETRIES_EXHAUSTED' });
  });

  it('waits out a dependency outage without spending the bound: nothing dead-lettered, nothing lost', async () => {
    let calls = 0;
    const { consumer, deliver, sent } = setup(
      'g-outage',
      async () => {
        calls++;
        if (calls <= 6) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      { maxAttempts: 2 },
    );
    await consumer.start();
    const resolved = await deliver([message('0', valueOf('x'))], '1');
    expect(calls).toBe(7);
    expect(resolved).toEqual(['0']);
    expect(letters(sent, TOPICS.deadLetter.name)).toEqual([]);
  });

  it("fails the run a dead-lettered pipeline message belongs to, with the failure's code and reason", async () => {
    const runId = '6f1c2d7e-7d1c-4a59-9d3b-8f7f0f0c1a11';
    const extracted = {
      run: {
        runId,
        tenantId: 'contoso',
        exportId: 'exp-1',
        connectionId: 'conn-1',
        trigger: 'on-demand',
        segments: [{ segmentId: 's', segmentName: 'S', listName: 'S', snapshot: { format: 'csv', location: '/data/contoso/x.csv' } }],
        mapping: { email: 'Email' },
        limitPolicy: 'skip',
        profileLimit: 100,
        quotaPerMonth: null,
      },
      kind: 'end',
      batches: 0,
      extracted: 0,
      rejected: 0,
    } as unknown as ProfilesExtractedV1;
    const { consumer, deliver, sent } = setup(
      'g-fail-run',
      async () => {
        throw new AppError('validation', 'a row the mapper cannot take', { code: 'MAPPING_REFUSED' });
      },
      { failRunAs: 'mapping' },
      TOPICS.profilesExtracted.name,
    );
    await consumer.start();
    await deliver([message('0', JSON.stringify(extracted))], '1');
    expect(letters(sent, TOPICS.deadLetter.name)[0]).toMatchObject({ code: 'MAPPING_REFUSED' });
    const [failed] = letters(sent, TOPICS.runEvents.name);
    expect(failed).toMatchObject({ type: 'run-failed', runId, tenantId: 'contoso', stage: 'mapping', code: 'MAPPING_REFUSED' });
    expect(failed.message).toContain('a row the mapper cannot take');
  });
});
