import { AutopilotError } from '@export/autopilot-client';
import pino from 'pino';
import type { DeliveryMetrics } from '../metrics/delivery.metrics';
import type { KeyPacer } from '../pacing/key-pacer';
import { AutopilotCaller, RateLimitedTooLongError } from './autopilot-caller';

function fakes() {
  const delays: number[] = [];
  const tickets = { admitted: 0, answered: [] as string[] };
  const pacer = {
    acquire: async () => ({ id: `call-${++tickets.admitted}`, admittedAt: Date.now() }),
    answered: async (_hash: string, ticket: { id: string }) => void tickets.answered.push(ticket.id),
    slowDown: async (_hash: string, ms: number) => {
      delays.push(ms);
      return 5;
    },
    markDead: async () => undefined,
  } as unknown as KeyPacer;
  const counter = () => ({ inc: jest.fn() });
  const metrics = {
    responses: counter(),
    rateLimited: counter(),
    retries: counter(),
    callDuration: { observe: jest.fn() },
  } as unknown as DeliveryMetrics;
  return { pacer, metrics, delays, tickets };
}

const options = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 60_000, maxRateLimitedMs: 300_000 };
const limited = (retryAfterMs?: number) =>
  new AutopilotError('rate-limited', 'Autopilot POST /contacts was rate limited (429)', { status: 429, retryAfterMs });

describe('AutopilotCaller on 429', () => {
  it('caps a Retry-After that asks for more than the cap', async () => {
    const { pacer, metrics, delays } = fakes();
    const caller = new AutopilotCaller(pacer, metrics, options, pino({ level: 'silent' }));
    let calls = 0;
    const call = caller.forKey('hash', new AbortController().signal);
    const result = await call('POST /contacts', async () => {
      if (++calls === 1) throw limited(3_600_000);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(delays).toEqual([60_000]);
  });

  it("fails with RateLimitedTooLongError once one run's waits on 429s pass the bound", async () => {
    const { pacer, metrics, delays } = fakes();
    const caller = new AutopilotCaller(pacer, metrics, options, pino({ level: 'silent' }));
    const call = caller.forKey('hash', new AbortController().signal);
    let calls = 0;
    const always429 = () =>
      call('POST /contacts', async () => {
        calls++;
        throw limited(60_000);
      });
    await expect(always429()).rejects.toBeInstanceOf(RateLimitedTooLongError);
    // 5 waits of 60 s reach the 300 s bound: the sixth 429 ends it, no sixth wait.
    expect(delays).toEqual([60_000, 60_000, 60_000, 60_000, 60_000]);
    expect(calls).toBe(6);
    // The bound is per run: a later call of the same run fails at its first 429.
    await expect(always429()).rejects.toBeInstanceOf(RateLimitedTooLongError);
    expect(calls).toBe(7);
    // Another run (another forKey) has its own budget.
    const other = caller.forKey('hash', new AbortController().signal);
    await expect(
      other('POST /contacts', async () => {
        if (calls++ < 8) throw limited(1000);
        return 'ok';
      }),
    ).resolves.toBe('ok');
  });
});

describe('AutopilotCaller and the pacer', () => {
  it('tells the pacer every call was answered, whatever the answer: its place in the window ends then', async () => {
    const { pacer, metrics, tickets } = fakes();
    const caller = new AutopilotCaller(pacer, metrics, options, pino({ level: 'silent' }));
    const call = caller.forKey('hash', new AbortController().signal);
    let calls = 0;
    await expect(
      call('POST /contacts', async () => {
        calls++;
        if (calls === 1) throw limited(1);
        if (calls === 2) throw new AutopilotError('unavailable', 'Autopilot answered 503', { status: 503 });
        return 'ok';
      }),
    ).resolves.toBe('ok');
    await expect(
      call('POST /contacts', async () => {
        throw new AutopilotError('bad-request', 'Autopilot answered 400', { status: 400 });
      }),
    ).rejects.toBeInstanceOf(AutopilotError);
    expect(tickets.admitted).toBe(4);
    expect(tickets.answered).toEqual(['call-1', 'call-2', 'call-3', 'call-4']);
  });
});
