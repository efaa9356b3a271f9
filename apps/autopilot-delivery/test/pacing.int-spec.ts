import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { KeyPacer, keyHash } from '../src/pacing/key-pacer';

// Two delivery instances (two pacers, two Redis connections) with several calls in flight each, answers taking
// 0-150 ms, all on Redis' own clock: a call that may have reached the destination (between its admission and
// its answer) never shares a sliding second with rps others.
describe('KeyPacer shared by two instances', () => {
  const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const connections = [new Redis(url), new Redis(url)];
  afterAll(() => Promise.all(connections.map((c) => c.quit())));

  it('never exceeds the window, whoever asks', async () => {
    const rps = 10;
    const prefix = `int-pacer-${randomUUID()}`;
    const [a, b] = connections.map((redis) => new KeyPacer(redis, { rps, marginMs: 0, prefix }));
    const hash = keyHash(randomUUID());
    const calls: { admitted: number; answered: number }[] = [];
    // 4 workers per instance, 5 calls each: 40 calls, 4 s or more at 10 r/s.
    await Promise.all(
      [a, a, a, a, b, b, b, b].map(async (pacer) => {
        for (let i = 0; i < 5; i++) {
          const ticket = await pacer.acquire(hash);
          await sleep(Math.floor(Math.random() * 150));
          calls.push({ admitted: ticket.admittedAt, answered: (await pacer.answered(hash, ticket)) as number });
        }
      }),
    );
    expect(calls).toHaveLength(40);
    calls.sort((x, y) => x.admitted - y.admitted);
    for (let i = 1; i < calls.length; i++) expect(calls[i].admitted - calls[i - 1].admitted).toBeGreaterThanOrEqual(100);
    for (const [x, call] of calls.entries()) {
      // Calls admitted before this one whose answer came less than a second before it: they may share its window.
      const sharing = calls.slice(0, x).filter((c) => c.answered > call.admitted - 1000);
      expect(sharing.length).toBeLessThan(rps);
    }
  });
});
