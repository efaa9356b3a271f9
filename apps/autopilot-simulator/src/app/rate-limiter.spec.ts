import { SlidingWindowRateLimiter } from './rate-limiter';

describe('SlidingWindowRateLimiter', () => {
  it('admits at most N requests in any 1000 ms window', () => {
    const limiter = new SlidingWindowRateLimiter(5);
    const admitted = [0, 100, 200, 300, 400].map((t) => limiter.tryAdmit('k', t).admitted);
    expect(admitted).toEqual([true, true, true, true, true]);
    expect(limiter.tryAdmit('k', 999)).toEqual({ admitted: false, retryAfterMs: 1 });
    // t=0 and t=1000 never share a window
    expect(limiter.tryAdmit('k', 1000).admitted).toBe(true);
    expect(limiter.tryAdmit('k', 1050).admitted).toBe(false);
    expect(limiter.tryAdmit('k', 1100).admitted).toBe(true);
  });

  it('does not let rejected requests use up the window', () => {
    const limiter = new SlidingWindowRateLimiter(2);
    limiter.tryAdmit('k', 0);
    limiter.tryAdmit('k', 10);
    for (let t = 20; t < 1000; t += 10) expect(limiter.tryAdmit('k', t).admitted).toBe(false);
    expect(limiter.tryAdmit('k', 1000).admitted).toBe(true);
    expect(limiter.tryAdmit('k', 1010).admitted).toBe(true);
    expect(limiter.tryAdmit('k', 1011).admitted).toBe(false);
  });

  it('keeps keys apart', () => {
    const limiter = new SlidingWindowRateLimiter(1);
    expect(limiter.tryAdmit('a', 0).admitted).toBe(true);
    expect(limiter.tryAdmit('b', 0).admitted).toBe(true);
    expect(limiter.tryAdmit('a', 1).admitted).toBe(false);
  });

  it('admits everything with limit 0 but still measures the busiest window', () => {
    const limiter = new SlidingWindowRateLimiter(0);
    for (let i = 0; i < 50; i++) expect(limiter.tryAdmit('k', i * 10).admitted).toBe(true);
    const stats = limiter.statsFor('k');
    expect(stats).toMatchObject({ requests: 50, admitted: 50, rejected: 0, maxAdmittedInWindow: 50, minAdmittedGapMs: 10 });
  });

  it('reports the busiest window of admitted and of all requests', () => {
    const limiter = new SlidingWindowRateLimiter(3);
    for (let i = 0; i < 10; i++) limiter.tryAdmit('k', i);
    limiter.recordRejected('k', 11);
    expect(limiter.statsFor('k')).toMatchObject({
      requests: 11,
      admitted: 3,
      rejected: 8,
      maxAdmittedInWindow: 3,
      maxRequestsInWindow: 11,
      firstAt: 0,
      lastAt: 11,
    });
  });

  it('applies a new limit at once and forgets everything on reset', () => {
    const limiter = new SlidingWindowRateLimiter(1);
    limiter.tryAdmit('k', 0);
    expect(limiter.tryAdmit('k', 1).admitted).toBe(false);
    limiter.setLimit(2);
    expect(limiter.tryAdmit('k', 2).admitted).toBe(true);
    limiter.reset();
    expect(limiter.statsFor('k')).toBeUndefined();
  });

  it('stays strict over a long run (queue compaction)', () => {
    const limiter = new SlidingWindowRateLimiter(5);
    let admitted = 0;
    for (let t = 0; t < 20_000; t += 7) if (limiter.tryAdmit('k', t).admitted) admitted++;
    // 5 per started second of the 20 s run
    expect(admitted).toBe(100);
    expect(limiter.statsFor('k')?.maxAdmittedInWindow).toBe(5);
  });
});
