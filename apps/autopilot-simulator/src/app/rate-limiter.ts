/**
 * Strict sliding-window rate limiter: at most `limit` admitted requests in any `windowMs` window per key.
 *
 * Written by hand on purpose (house style otherwise takes rate limiting from a library): the simulator
 * is the referee the product is measured against, so it needs the exact, strict definition ("no
 * 1000 ms window ever holds more than N admitted requests") and the maximum ever observed per window,
 * which the fixed- or approximated-window limiters of libraries such as rate-limiter-flexible do not
 * give.
 */
export type RateLimitDecision = { admitted: true } | { admitted: false; retryAfterMs: number };

export interface KeyRateStats {
  /** every request seen for the key, admitted or not */
  requests: number;
  admitted: number;
  rejected: number;
  firstAt: number | null;
  lastAt: number | null;
  /** the largest number of admitted requests that ever fell inside one window */
  maxAdmittedInWindow: number;
  /** the largest number of requests (admitted or rejected) that ever fell inside one window */
  maxRequestsInWindow: number;
  /** the smallest gap between two consecutive admitted requests, null before the second one */
  minAdmittedGapMs: number | null;
}

/** Timestamps inside the trailing window, kept in arrival order with an amortised O(1) queue. */
class TimestampWindow {
  private times: number[] = [];
  private head = 0;

  constructor(private readonly windowMs: number) {}

  /** Drops timestamps at least one window old: `t` and `t + windowMs` never share a window. */
  prune(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head] <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.times.length - this.head;
  }

  get oldest(): number {
    return this.times[this.head];
  }

  push(now: number): void {
    this.times.push(now);
  }
}

class KeyWindow {
  readonly admitted: TimestampWindow;
  readonly all: TimestampWindow;
  readonly stats: KeyRateStats = {
    requests: 0,
    admitted: 0,
    rejected: 0,
    firstAt: null,
    lastAt: null,
    maxAdmittedInWindow: 0,
    maxRequestsInWindow: 0,
    minAdmittedGapMs: null,
  };
  lastAdmittedAt: number | null = null;

  constructor(windowMs: number) {
    this.admitted = new TimestampWindow(windowMs);
    this.all = new TimestampWindow(windowMs);
  }
}

export class SlidingWindowRateLimiter {
  private readonly windows = new Map<string, KeyWindow>();

  /** @param limit admitted requests per window and key; 0 admits everything (still measured). */
  constructor(
    private limit: number,
    private readonly windowMs = 1000,
  ) {}

  get currentLimit(): number {
    return this.limit;
  }

  setLimit(limit: number): void {
    this.limit = limit;
  }

  /** Counts the request and admits it when the key's trailing window holds fewer than `limit` admitted. */
  tryAdmit(key: string, now: number): RateLimitDecision {
    const window = this.track(key, now);
    window.admitted.prune(now);
    if (this.limit > 0 && window.admitted.size >= this.limit) {
      window.stats.rejected++;
      return { admitted: false, retryAfterMs: Math.max(0, window.admitted.oldest + this.windowMs - now) };
    }
    window.admitted.push(now);
    const stats = window.stats;
    stats.admitted++;
    if (window.admitted.size > stats.maxAdmittedInWindow) stats.maxAdmittedInWindow = window.admitted.size;
    if (window.lastAdmittedAt !== null) {
      const gap = now - window.lastAdmittedAt;
      if (stats.minAdmittedGapMs === null || gap < stats.minAdmittedGapMs) stats.minAdmittedGapMs = gap;
    }
    window.lastAdmittedAt = now;
    return { admitted: true };
  }

  /** Counts a request that was turned away before the limiter was asked (a forced 429). */
  recordRejected(key: string, now: number): void {
    this.track(key, now).stats.rejected++;
  }

  statsFor(key: string): KeyRateStats | undefined {
    const window = this.windows.get(key);
    return window ? { ...window.stats } : undefined;
  }

  allStats(): Record<string, KeyRateStats> {
    const result: Record<string, KeyRateStats> = {};
    for (const [key, window] of this.windows) result[key] = { ...window.stats };
    return result;
  }

  reset(): void {
    this.windows.clear();
  }

  private track(key: string, now: number): KeyWindow {
    let window = this.windows.get(key);
    if (!window) {
      window = new KeyWindow(this.windowMs);
      this.windows.set(key, window);
    }
    const stats = window.stats;
    stats.requests++;
    if (stats.firstAt === null) stats.firstAt = now;
    stats.lastAt = now;
    window.all.prune(now);
    window.all.push(now);
    if (window.all.size > stats.maxRequestsInWindow) stats.maxRequestsInWindow = window.all.size;
    return window;
  }
}
