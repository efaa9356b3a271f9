import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { KeyPacer, keyHash, KeyRejectedError, type PacerClock } from './key-pacer';

/**
 * A clock that only moves when a caller sleeps (one caller at a time): the pacer's decisions become exact.
 * `late` says how many ms a sleep overshoots (a starved timer), by call.
 */
class FakeClock implements PacerClock {
  private us = 1_700_000_000_000_000;
  sleeps = 0;
  constructor(private readonly late: (sleep: number) => number = () => 0) {}
  nowUs(): number {
    return this.us;
  }
  advance(ms: number): void {
    this.us += ms * 1000;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.us += (ms + this.late(this.sleeps++)) * 1000;
  }
}

/** Admission instants relative to the first, in ms. */
const relative = (times: number[]) => times.map((t) => Math.round((t - times[0]) * 1000) / 1000);

// Runs against the real Redis (127.0.0.1:6379): the pacing is a Lua script, only Redis can run it. The clock is
// fake: each test passes the time the script would otherwise read from Redis, so the figures are exact.
describe('KeyPacer', () => {
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  beforeAll(() => redis.connect());
  afterAll(() => redis.quit());
  const prefix = `test-pacer-${randomUUID()}`;
  const newKey = () => keyHash(randomUUID());

  it('hashes keys (never stores the key itself)', () => {
    expect(keyHash('secret')).toMatch(/^[0-9a-f]{64}$/);
    expect(keyHash('secret')).not.toContain('secret');
  });

  /** One call after the other: admitted, answered `latency(i)` ms later. Returns admission and answer instants. */
  async function sequence(pacer: KeyPacer, clock: FakeClock, hash: string, n: number, latency: (i: number) => number = () => 0) {
    const calls: { admitted: number; answered: number }[] = [];
    for (let i = 0; i < n; i++) {
      const ticket = await pacer.acquire(hash);
      clock.advance(latency(i));
      calls.push({ admitted: ticket.admittedAt, answered: (await pacer.answered(hash, ticket)) as number });
    }
    return calls;
  }

  /**
   * The guarantee: a call may reach the destination at any instant between its admission and its answer, so
   * no call is admitted while `limit` earlier calls were answered less than `windowMs` before it.
   */
  function expectNeverSharedWindow(calls: { admitted: number; answered: number }[], limit: number, windowMs: number) {
    for (const [x, call] of calls.entries()) {
      const sharing = calls.filter((c, j) => j !== x && c.admitted <= call.admitted && c.answered > call.admitted - windowMs);
      expect(sharing.length).toBeLessThan(limit);
    }
  }

  it('spaces calls one gap apart; a call holds its place until a window after its answer', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 5, marginMs: 0, prefix, clock });
    const calls = await sequence(pacer, clock, newKey(), 11, () => 10);
    // Answers take 10 ms: the 6th call waits for the 1st's answer (at 10) to be a window old; 10 ms per window.
    expect(relative(calls.map((c) => c.admitted))).toEqual([0, 200, 400, 600, 800, 1010, 1210, 1410, 1610, 1810, 2020]);
  });

  it('adds the margin once per window', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 5, marginMs: 5, prefix, clock });
    const calls = await sequence(pacer, clock, newKey(), 11);
    expect(relative(calls.map((c) => c.admitted))).toEqual([0, 200, 400, 600, 800, 1005, 1205, 1405, 1605, 1805, 2010]);
  });

  it('paces by when calls were admitted: a call that woke late pushes the later ones back', async () => {
    // The 3rd sleep overshoots by 37 ms: the 4th call leaves at 437, not 400.
    const clock = new FakeClock((n) => (n === 2 ? 37 : 0));
    const pacer = new KeyPacer(redis, { rps: 5, marginMs: 0, prefix, clock });
    const at = relative((await sequence(pacer, clock, newKey(), 10)).map((c) => c.admitted));
    expect(at).toEqual([0, 200, 400, 637, 837, 1037, 1237, 1437, 1637, 1837]);
  });

  it('holds the place of a call in flight: while it is unanswered, a window admits one call fewer', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 5, marginMs: 0, maxInFlightMs: 3000, prefix, clock });
    const hash = newKey();
    const slow = await pacer.acquire(hash);
    const rest = await sequence(pacer, clock, hash, 9);
    expect(relative([slow.admittedAt, ...rest.map((c) => c.admitted)])).toEqual([0, 200, 400, 600, 800, 1200, 1400, 1600, 1800, 2200]);
    // Past maxInFlightMs (its instance may have died) the call counts as answered at its deadline.
    clock.advance(3000);
    const after = await sequence(pacer, clock, hash, 6);
    expect(relative([slow.admittedAt, ...after.map((c) => c.admitted)]).slice(1)).toEqual([5200, 5400, 5600, 5800, 6000, 6200]);
  });

  it('never lets a call share a window with rps calls that may have arrived, whatever the timers and answers do', async () => {
    // Timers overshoot by 0-20 ms and answers take 0-300 ms, at random.
    const clock = new FakeClock(() => Math.floor(Math.random() * 20));
    const pacer = new KeyPacer(redis, { rps: 5, marginMs: 0, prefix, clock });
    const calls = await sequence(pacer, clock, newKey(), 60, () => Math.floor(Math.random() * 300));
    expectNeverSharedWindow(calls, 5, 1000);
    for (let i = 1; i < calls.length; i++) expect(calls[i].admitted - calls[i - 1].admitted).toBeGreaterThanOrEqual(200);
  });

  it('shares one log between pacers (instances) using the same Redis', async () => {
    const clock = new FakeClock();
    const a = new KeyPacer(redis, { rps: 5, marginMs: 0, prefix, clock });
    const b = new KeyPacer(redis, { rps: 5, marginMs: 0, prefix, clock });
    const hash = newKey();
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const pacer = i % 2 ? a : b;
      const ticket = await pacer.acquire(hash);
      clock.advance(20);
      await pacer.answered(hash, ticket);
      times.push(ticket.admittedAt);
    }
    expect(relative(times)).toEqual([0, 200, 400, 600, 800, 1020, 1220, 1420, 1620, 1820]);
  });

  it('turns a fractional rate into a window of whole calls', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 2.5, marginMs: 0, prefix, clock });
    const calls = await sequence(pacer, clock, newKey(), 5);
    expect(relative(calls.map((c) => c.admitted))).toEqual([0, 400, 800, 1200, 1600]);
    expectNeverSharedWindow(calls, 2, 800);
  });

  it('keeps keys independent', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 1, marginMs: 0, prefix, clock });
    await pacer.acquire(newKey());
    await pacer.acquire(newKey());
    expect(clock.sleeps).toBe(0);
  });

  it('after a 429 waits as told and widens the margin step by step, up to its cap', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 5, marginMs: 5, extraStepMs: 10, maxExtraMs: 25, prefix, clock });
    const hash = newKey();
    await sequence(pacer, clock, hash, 5);
    const limitedAt = clock.nowUs() / 1000;
    await expect(pacer.slowDown(hash, 1500)).resolves.toBe(10);
    const [blocked] = await sequence(pacer, clock, hash, 1);
    expect(blocked.admitted - limitedAt).toBe(1500);
    await expect(pacer.slowDown(hash, 0)).resolves.toBe(20);
    await expect(pacer.slowDown(hash, 0)).resolves.toBe(25);
    const calls = await sequence(pacer, clock, hash, 5);
    // The 5th after the blocked one waits for the blocked one's answer to be a window + 5 + 25 ms old.
    expect(calls.map((c) => c.admitted - (limitedAt + 1500))).toEqual([200, 400, 600, 800, 1030]);
    // The adaptation is forgotten after adaptMs (10 min) without a 429.
    const ttl = await redis.pttl(`${prefix}:pace-adapt:${hash}`);
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
  });

  it('forgets a dead key once the connection saved it again (a new key version), for every instance', async () => {
    const a = new KeyPacer(redis, { rps: 100, marginMs: 0, prefix });
    const b = new KeyPacer(redis, { rps: 100, marginMs: 0, prefix });
    const hash = newKey();
    await a.markDead(hash, 3);
    await expect(b.isDead(hash, 3)).resolves.toBe(true);
    await expect(b.acquire(hash, undefined, 3)).rejects.toBeInstanceOf(KeyRejectedError);
    // The admin re-saved the same key and it passed Autopilot's check: version 4 is alive everywhere.
    await expect(b.isDead(hash, 4)).resolves.toBe(false);
    await expect(b.acquire(hash, undefined, 4)).resolves.toMatchObject({ admittedAt: expect.any(Number) });
  });

  it('refuses a dead key at once, also to a call that was waiting for its turn', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 1, marginMs: 0, prefix, clock });
    const hash = newKey();
    await expect(pacer.acquire(hash)).resolves.toMatchObject({ admittedAt: expect.any(Number) });
    const sleep = clock.sleep.bind(clock);
    // The key is rejected while the next call sleeps until its turn.
    clock.sleep = async (ms, signal) => {
      await pacer.markDead(hash);
      return sleep(ms, signal);
    };
    await expect(pacer.acquire(hash)).rejects.toBeInstanceOf(KeyRejectedError);
    await expect(pacer.isDead(hash)).resolves.toBe(true);
  });

  it('does not pace at 0 r/s but still refuses a dead key', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 0, marginMs: 0, prefix, clock });
    const hash = newKey();
    for (let i = 0; i < 20; i++) await pacer.acquire(hash);
    expect(clock.sleeps).toBe(0);
    await pacer.markDead(hash);
    await expect(pacer.acquire(hash)).rejects.toBeInstanceOf(KeyRejectedError);
  });

  it('holds an unpaced key back after a 429 as long as asked, then lets calls go without pacing again', async () => {
    const clock = new FakeClock();
    const pacer = new KeyPacer(redis, { rps: 0, marginMs: 0, prefix, clock });
    const hash = newKey();
    const first = await pacer.acquire(hash);
    await pacer.slowDown(hash, 1500);
    const held = await pacer.acquire(hash);
    expect(relative([first.admittedAt, held.admittedAt])).toEqual([0, 1500]);
    expect(clock.sleeps).toBe(1);
    for (let i = 0; i < 5; i++) await pacer.acquire(hash);
    expect(clock.sleeps).toBe(1);
  });

  it('stops waiting when aborted (real clock)', async () => {
    const pacer = new KeyPacer(redis, { rps: 1, marginMs: 0, prefix });
    const hash = newKey();
    await pacer.acquire(hash);
    const controller = new AbortController();
    const waiting = pacer.acquire(hash, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
