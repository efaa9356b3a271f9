import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { KeyPacer, keyHash } from '../src/pacing/key-pacer';

// Two delivery instances (two pacers, two Redis connections) with several calls in flight each, on Redis'
// own clock: the admission instants they are handed never put more than rps calls into one sliding second.
describe('KeyPacer shared by two instances', () => {
  const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const connections = [new Redis(url), new Redis(url)];
  afterAll(() => Promise.all(connections.map((c) => c.quit())));

  it('never exceeds the window, whoever asks', async () => {
    const rps = 10;
    const prefix = `int-pacer-${randomUUID()}`;
    const [a, b] = connections.map((redis) => new KeyPacer(redis, { rps, marginMs: 0, prefix }));
    const hash = keyHash(randomUUID());
    const times: number[] = [];
    // 4 workers per instance, 5 calls each: 40 calls, 4 s at 10 r/s.
    await Promise.all(
      [a, a, a, a, b, b, b, b].map(async (pacer) => {
        for (let i = 0; i < 5; i++) times.push(await pacer.acquire(hash));
      }),
    );
    times.sort((x, y) => x - y);
    expect(times).toHaveLength(40);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(100);
    for (let i = rps; i < times.length; i++) expect(times[i] - times[i - rps]).toBeGreaterThanOrEqual(1000);
    // What Redis logged is what the callers were handed.
    const log = (await connections[0].lrange(`${prefix}:pace-log:${hash}`, 0, -1)).map((t) => Number(t) / 1000);
    expect(log).toEqual(times.slice(-rps));
  });
});
