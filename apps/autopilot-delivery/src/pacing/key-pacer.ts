import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type Redis from 'ioredis';

/** Identifies an API key in Redis, the database, logs and metrics without revealing it. */
export function keyHash(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

export class KeyRejectedError extends Error {
  constructor() {
    super('The Autopilot API key was rejected (401); no further calls are made with it');
    this.name = 'KeyRejectedError';
  }
}

// Admission of one call, atomic in Redis and timed by Redis' clock (or ARGV[6], a test's fake clock), so every
// instance sees one log. Times are microseconds, kept as strings: Lua numbers lose digits in tostring().
//   KEYS[1] the key's log: admission times of its last ARGV[1] calls (oldest first)
//   KEYS[2] its dead flag: the key version Autopilot rejected (ARGV[5] is the version in use)
//   KEYS[3] its adaptation after 429s: `block` (no call before) and `extra` (µs added to the margin)
//   ARGV[1] calls per window (0 = no pacing), ARGV[2] window, ARGV[3] least gap between calls, ARGV[4] margin
// A call is admitted when the previous call is at least one gap old AND the call ARGV[1] places back is at
// least one window + margin (+ extra) old: the log holds when calls were actually admitted (the instant before
// they are sent), so a call that woke late delays the ones after it instead of letting them catch up.
// Returns {0, now} when admitted (now recorded), {wait µs, now} when not yet, {-1, now} when the key is dead.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if ARGV[6] ~= '' then now = tonumber(ARGV[6]) end
if redis.call('GET', KEYS[2]) == ARGV[5] then return {-1, now} end
local limit = tonumber(ARGV[1])
if limit == 0 then return {0, now} end
local window = tonumber(ARGV[2])
local adapt = redis.call('HMGET', KEYS[3], 'block', 'extra')
local free = tonumber(adapt[1] or '0')
local n = redis.call('LLEN', KEYS[1])
if n > 0 then
  free = math.max(free, tonumber(redis.call('LINDEX', KEYS[1], -1)) + tonumber(ARGV[3]))
end
if n >= limit then
  local back = tonumber(redis.call('LINDEX', KEYS[1], -limit))
  free = math.max(free, back + window + tonumber(ARGV[4]) + tonumber(adapt[2] or '0'))
end
if now < free then return {free - now, now} end
redis.call('RPUSH', KEYS[1], string.format('%.0f', now))
redis.call('LTRIM', KEYS[1], -limit, -1)
redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 60000)
return {0, now}
`;

// After a 429: no call before now + ARGV[1] µs, and the margin of every later window grows by ARGV[2] µs (up
// to ARGV[3]) for the next ARGV[4] ms without another 429.
const RATE_LIMITED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if ARGV[5] ~= '' then now = tonumber(ARGV[5]) end
local block = now + tonumber(ARGV[1])
local current = redis.call('HMGET', KEYS[1], 'block', 'extra')
local extra = math.min(tonumber(ARGV[3]), tonumber(current[2] or '0') + tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'block', string.format('%.0f', math.max(block, tonumber(current[1] or '0'))),
  'extra', string.format('%.0f', extra))
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[4]), math.floor(tonumber(ARGV[1]) / 1000) + 1000))
return extra
`;

type PacerRedis = Redis & {
  pacerAdmit(
    log: string,
    dead: string,
    adapt: string,
    limit: string,
    windowUs: string,
    gapUs: string,
    marginUs: string,
    version: string,
    nowUs: string,
  ): Promise<[number, number]>;
  pacerRateLimited(
    adapt: string,
    blockUs: string,
    stepUs: string,
    maxUs: string,
    ttlMs: string,
    nowUs: string,
  ): Promise<number>;
};

/** Time as the pacer sees it; tests pass a fake one (the default is Redis' clock and real timers). */
export interface PacerClock {
  /** Microseconds; used instead of Redis' TIME. */
  nowUs(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface KeyPacerOptions {
  /** Requests per second per key; 0 = no pacing (the dead-key check stays). */
  rps: number;
  /**
   * Added once per sliding window (not per call): the call `n` places back (n = the calls a window admits)
   * must be at least one window + this old. Covers the spread between when we admit calls and when they
   * reach Autopilot.
   */
  marginMs: number;
  /** Grows the margin by this after every 429, up to `maxExtraMs`, until `adaptMs` pass without a 429. */
  extraStepMs?: number;
  maxExtraMs?: number;
  adaptMs?: number;
  prefix?: string;
  /** How long a rejected key stays dead for every instance. */
  deadTtlMs?: number;
  clock?: PacerClock;
}

/**
 * Paces calls per API key across all delivery instances against a strict sliding window (Autopilot and the
 * simulator admit at most rps calls in any one second). Each call is admitted in Redis the instant before it
 * is sent, and the admission is logged at that instant:
 * - calls are spaced at least 1000/rps ms apart (no bursts that bunch up on their way), and
 * - the call rps places back must be one window + margin old, so the margin is paid once per window
 *   (~0.5% at 5 r/s with 5 ms) instead of once per call, and a call that left late pushes the later ones back
 *   instead of letting them catch up into its window;
 * - a 429 blocks the key (Retry-After, or the caller's backoff) and grows the margin for a while (adaptive).
 * rate-limiter-flexible's Redis store expires keys in whole seconds and counts by schedule, not by send time,
 * so this is a small Lua script instead.
 */
export class KeyPacer {
  private readonly redis: PacerRedis;
  private readonly limit: number;
  private readonly windowUs: number;
  private readonly gapUs: number;
  private readonly marginUs: number;
  private readonly prefix: string;
  private readonly clock?: PacerClock;

  constructor(
    redis: Redis,
    private readonly options: KeyPacerOptions,
  ) {
    this.redis = redis as PacerRedis;
    this.redis.defineCommand('pacerAdmit', { numberOfKeys: 3, lua: ADMIT });
    this.redis.defineCommand('pacerRateLimited', { numberOfKeys: 1, lua: RATE_LIMITED });
    // A window of whole calls: 5 r/s = 5 calls per 1000 ms; 2.5 r/s = 2 calls per 800 ms; 0.5 r/s = 1 per 2 s.
    this.limit = options.rps > 0 ? Math.max(1, Math.floor(options.rps)) : 0;
    this.windowUs = options.rps > 0 ? Math.round((this.limit / options.rps) * 1_000_000) : 0;
    this.gapUs = this.limit > 0 ? Math.floor(this.windowUs / this.limit) : 0;
    this.marginUs = Math.round(options.marginMs * 1000);
    this.prefix = options.prefix ?? 'autopilot-delivery';
    this.clock = options.clock;
  }

  /**
   * Waits until this key may be called and records the call as sent now; returns that instant (Redis' clock,
   * ms). Throws KeyRejectedError when this version of the key is dead, or the signal's reason. `version` is
   * the connection's key version (see markDead).
   */
  async acquire(hash: string, signal?: AbortSignal, version = 1): Promise<number> {
    for (;;) {
      signal?.throwIfAborted();
      const [waitUs, nowUs] = await this.redis.pacerAdmit(
        this.logKey(hash),
        this.deadKey(hash),
        this.adaptKey(hash),
        String(this.limit),
        String(this.windowUs),
        String(this.gapUs),
        String(this.marginUs),
        String(version),
        this.clock ? String(Math.round(this.clock.nowUs())) : '',
      );
      if (waitUs < 0) throw new KeyRejectedError();
      if (waitUs === 0) return nowUs / 1000;
      // Asked again when the wait is over: another caller may have taken the slot meanwhile.
      await this.sleep(Math.ceil(waitUs / 1000), signal);
    }
  }

  /**
   * After a 429: no call with this key before `ms` from now, and a wider margin for a while (the calls that
   * were admitted in time still arrived too close together). Returns the extra margin now in force, in ms.
   */
  async slowDown(hash: string, ms: number): Promise<number> {
    const extraUs = await this.redis.pacerRateLimited(
      this.adaptKey(hash),
      String(Math.round(ms * 1000)),
      String(Math.round((this.options.extraStepMs ?? 5) * 1000)),
      String(Math.round((this.options.maxExtraMs ?? 50) * 1000)),
      String(this.options.adaptMs ?? 10 * 60_000),
      this.clock ? String(Math.round(this.clock.nowUs())) : '',
    );
    return Number(extraUs) / 1000;
  }

  /**
   * After a 401: no instance calls with this version of the key any more. The flag is versioned: once an admin
   * saves the connection's key again and it passes Autopilot's check, the connection's key version grows and
   * the same key is usable again at once (an unversioned flag would block it for `deadTtlMs`).
   */
  async markDead(hash: string, version = 1): Promise<void> {
    await this.redis.set(this.deadKey(hash), String(version), 'PX', this.options.deadTtlMs ?? 24 * 3600 * 1000);
  }

  async isDead(hash: string, version = 1): Promise<boolean> {
    return (await this.redis.get(this.deadKey(hash))) === String(version);
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<unknown> {
    return this.clock ? this.clock.sleep(ms, signal) : sleep(ms, undefined, { signal });
  }

  private logKey(hash: string): string {
    return `${this.prefix}:pace-log:${hash}`;
  }

  private adaptKey(hash: string): string {
    return `${this.prefix}:pace-adapt:${hash}`;
  }

  private deadKey(hash: string): string {
    return `${this.prefix}:dead:${hash}`;
  }
}
