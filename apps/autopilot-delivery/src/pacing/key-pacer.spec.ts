import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { KeyPacer, keyHash, KeyRejectedError } from './key-pacer';

// Runs against the real Redis (127.0.0.1:6379): the pacing is a Lua script, only Redis can run it.
describe('KeyPacer', () => {
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  beforeAll(() => redis.connect());
  afterAll(() => redis.quit());
  const prefix = `test-pacer-${randomUUID()}`;

  it('hashes keys (never stores the key itself)', () => {
    expect(keyHash('secret')).toMatch(/^[0-9a-f]{64}$/);
    expect(keyHash('secret')).not.toContain('secret');
  });

  it('spaces calls of one key evenly, across pacers sharing Redis', async () => {
    const a = new KeyPacer(redis, { rps: 20, marginMs: 0, prefix });
    const b = new KeyPacer(redis, { rps: 20, marginMs: 0, prefix });
    const hash = keyHash(randomUUID());
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).acquire(hash).then(() => times.push(performance.now())),
      ),
    );
    times.sort((x, y) => x - y);
    // 10 calls at 50 ms spacing span 450 ms; gaps only shrink by the timers' lag (loose bound: CI is busy).
    expect(times[9] - times[0]).toBeGreaterThanOrEqual(400);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(20);
  });

  it('keeps keys independent', async () => {
    const pacer = new KeyPacer(redis, { rps: 2, marginMs: 0, prefix });
    const started = performance.now();
    await Promise.all([pacer.acquire(keyHash(randomUUID())), pacer.acquire(keyHash(randomUUID()))]);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('slows a key down after a 429', async () => {
    const pacer = new KeyPacer(redis, { rps: 100, marginMs: 0, prefix });
    const hash = keyHash(randomUUID());
    // Timed from before the 429 is recorded: on a busy machine the gap to acquire may eat part of the wait.
    const started = performance.now();
    await pacer.slowDown(hash, 300);
    await pacer.acquire(hash);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('forgets a dead key once the connection saved it again (a new key version), for every instance', async () => {
    const a = new KeyPacer(redis, { rps: 100, marginMs: 0, prefix });
    const b = new KeyPacer(redis, { rps: 100, marginMs: 0, prefix });
    const hash = keyHash(randomUUID());
    await a.markDead(hash, 3);
    await expect(b.isDead(hash, 3)).resolves.toBe(true);
    await expect(b.acquire(hash, undefined, 3)).rejects.toBeInstanceOf(KeyRejectedError);
    // The admin re-saved the same key and it passed Autopilot's check: version 4 is alive everywhere.
    await expect(b.isDead(hash, 4)).resolves.toBe(false);
    await expect(b.acquire(hash, undefined, 4)).resolves.toBeUndefined();
  });

  it('refuses a dead key at once', async () => {
    const pacer = new KeyPacer(redis, { rps: 0, marginMs: 0, prefix });
    const hash = keyHash(randomUUID());
    await expect(pacer.acquire(hash)).resolves.toBeUndefined();
    await pacer.markDead(hash);
    await expect(pacer.isDead(hash)).resolves.toBe(true);
    await expect(pacer.acquire(hash)).rejects.toBeInstanceOf(KeyRejectedError);
  });

  it('stops waiting when aborted', async () => {
    const pacer = new KeyPacer(redis, { rps: 1, marginMs: 0, prefix });
    const hash = keyHash(randomUUID());
    await pacer.acquire(hash);
    const controller = new AbortController();
    const waiting = pacer.acquire(hash, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
