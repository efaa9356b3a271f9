import { createHash, randomUUID } from 'node:crypto';
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

// The key's calls not yet out of the sliding window, one hash field per call: `<admitted µs> <answered µs>`
// (answered 0 while the call is in flight). A call may have reached Autopilot at any instant between being
// admitted and its answer coming back, so it counts against the window until one window (+ margin) after its
// answer; a call in flight counts as "now" (for at most ARGV[7] µs, in case its instance died). Times are µs on
// Redis' clock (or a test's fake clock: ARGV[6] here), kept as strings: Lua numbers lose digits in tostring().
//   KEYS[1] the key's calls, KEYS[2] its dead flag (the key version Autopilot rejected; ARGV[5] is ours),
//   KEYS[3] its adaptation after 429s: `block` (no call before) and `extra` (µs added to the margin)
//   ARGV[1] calls per window (0 = no pacing), ARGV[2] window, ARGV[3] least gap between admissions,
//   ARGV[4] margin, ARGV[8] this call's id
// A call is admitted when fewer than ARGV[1] calls may still share a window with it and the last admission is
// a gap old. Returns {0, now} when admitted, {wait µs, now} when not yet, {-1, now} when the key is dead.
const clockNow = (arg: number) => `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if ARGV[${arg}] ~= '' then now = tonumber(ARGV[${arg}]) end
`;

const ADMIT = `${clockNow(6)}
if redis.call('GET', KEYS[2]) == ARGV[5] then return {-1, now} end
local limit = tonumber(ARGV[1])
local adapt = redis.call('HMGET', KEYS[3], 'block', 'extra')
-- Unpaced, a 429's back-off still holds (without it every worker resent at once, again and again).
if limit == 0 then
  local block = tonumber(adapt[1] or '0')
  if now < block then return {block - now, now} end
  return {0, now}
end
local window = tonumber(ARGV[2])
local hold = window + tonumber(ARGV[4]) + tonumber(adapt[2] or '0')
local free = tonumber(adapt[1] or '0')
local calls = redis.call('HGETALL', KEYS[1])
local ends = {}
for i = 1, #calls, 2 do
  local admitted, answered = string.match(calls[i + 1], '(%d+) (%d+)')
  admitted = tonumber(admitted)
  answered = tonumber(answered)
  -- In flight: counts as now, or as answered at its deadline once that passed.
  local last = answered
  if answered == 0 then last = math.min(now, admitted + tonumber(ARGV[7])) end
  if last + hold <= now then
    redis.call('HDEL', KEYS[1], calls[i])
  else
    table.insert(ends, last)
    free = math.max(free, admitted + tonumber(ARGV[3]))
  end
end
if #ends >= limit then
  table.sort(ends)
  free = math.max(free, ends[#ends - limit + 1] + hold)
end
if now < free then return {free - now, now} end
redis.call('HSET', KEYS[1], ARGV[8], string.format('%.0f 0', now))
redis.call('PEXPIRE', KEYS[1], math.floor((hold + tonumber(ARGV[7])) / 1000) + 60000)
return {0, now}
`;

// The call's answer came back (or it failed): it counts against the window until one window after now.
const ANSWERED = `${clockNow(2)}
local call = redis.call('HGET', KEYS[1], ARGV[1])
if call then
  redis.call('HSET', KEYS[1], ARGV[1], string.match(call, '(%d+) ') .. ' ' .. string.format('%.0f', now))
end
return now
`;

// After a 429: no call before now + ARGV[1] µs, and the margin of every later window grows by ARGV[2] µs (up
// to ARGV[3]) for the next ARGV[4] ms without another 429.
const RATE_LIMITED = `${clockNow(5)}
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
    calls: string,
    dead: string,
    adapt: string,
    limit: string,
    windowUs: string,
    gapUs: string,
    marginUs: string,
    version: string,
    nowUs: string,
    maxInFlightUs: string,
    callId: string,
  ): Promise<[number, number]>;
  pacerAnswered(calls: string, callId: string, nowUs: string): Promise<number>;
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
  /** Requests per second per key; 0 = no pacing (the dead-key check and the back-off after a 429 stay). */
  rps: number;
  /**
   * Added to the window a call holds after its answer. Not needed for the guarantee (a call held until one
   * window after its answer can never share a window with a call sent after that); it covers a destination
   * whose limiter's clock runs behind ours.
   */
  marginMs: number;
  /** A call in flight longer than this (its instance died, its answer was lost) counts as answered then. */
  maxInFlightMs?: number;
  /** Grows the margin by this after every 429, up to `maxExtraMs`, until `adaptMs` pass without a 429. */
  extraStepMs?: number;
  maxExtraMs?: number;
  adaptMs?: number;
  prefix?: string;
  /** How long a rejected key stays dead for every instance. */
  deadTtlMs?: number;
  clock?: PacerClock;
}

/** An admitted call: tell the pacer when its answer came back (`answered`). */
export interface PacerTicket {
  id: string;
  /** When it was admitted, ms on Redis' clock. */
  admittedAt: number;
}

/**
 * Paces calls per API key across all delivery instances against a strict sliding window (Autopilot and the
 * simulator admit at most rps calls in any one second, counted when each call reaches them). A call may
 * reach Autopilot at any instant between its admission and its answer, so each call holds its place in the
 * window from its admission until one window after its answer; a new call is admitted, on Redis' clock, when
 * fewer than rps calls still hold a place (and the last admission is 1000/rps ms old, which keeps calls
 * evenly spread). No arrival jitter, on our side, the network's or the destination's, can then put rps + 1
 * calls into one of its windows; the price is the answer time of one call per window (~1% at 5 r/s when
 * answers take 10 ms), instead of a margin paid on every call. A 429 (from another client of the key, or a
 * destination that counts differently) blocks the key and widens the margin for a while.
 * rate-limiter-flexible's Redis store counts admissions in whole-second keys, so this is a small Lua script.
 */
export class KeyPacer {
  private readonly redis: PacerRedis;
  private readonly limit: number;
  private readonly windowUs: number;
  private readonly gapUs: number;
  private readonly marginUs: number;
  private readonly maxInFlightUs: number;
  private readonly prefix: string;
  private readonly clock?: PacerClock;

  constructor(
    redis: Redis,
    private readonly options: KeyPacerOptions,
  ) {
    this.redis = redis as PacerRedis;
    this.redis.defineCommand('pacerAdmit', { numberOfKeys: 3, lua: ADMIT });
    this.redis.defineCommand('pacerAnswered', { numberOfKeys: 1, lua: ANSWERED });
    this.redis.defineCommand('pacerRateLimited', { numberOfKeys: 1, lua: RATE_LIMITED });
    // A window of whole calls: 5 r/s = 5 calls per 1000 ms; 2.5 r/s = 2 calls per 800 ms; 0.5 r/s = 1 per 2 s.
    this.limit = options.rps > 0 ? Math.max(1, Math.floor(options.rps)) : 0;
    this.windowUs = options.rps > 0 ? Math.round((this.limit / options.rps) * 1_000_000) : 0;
    this.gapUs = this.limit > 0 ? Math.floor(this.windowUs / this.limit) : 0;
    this.marginUs = Math.round(options.marginMs * 1000);
    this.maxInFlightUs = Math.round((options.maxInFlightMs ?? 60_000) * 1000);
    this.prefix = options.prefix ?? 'autopilot-delivery';
    this.clock = options.clock;
  }

  /**
   * Waits until this key may be called and records the call as in flight from now. Call `answered` with the
   * ticket once its answer (or failure) is in. Throws KeyRejectedError when this version of the key is dead,
   * or the signal's reason. `version` is the connection's key version (see markDead).
   */
  async acquire(hash: string, signal?: AbortSignal, version = 1): Promise<PacerTicket> {
    const id = randomUUID();
    for (;;) {
      signal?.throwIfAborted();
      const [waitUs, nowUs] = await this.redis.pacerAdmit(
        this.callsKey(hash),
        this.deadKey(hash),
        this.adaptKey(hash),
        String(this.limit),
        String(this.windowUs),
        String(this.gapUs),
        String(this.marginUs),
        String(version),
        this.now(),
        String(this.maxInFlightUs),
        id,
      );
      if (waitUs < 0) throw new KeyRejectedError();
      if (waitUs === 0) return { id, admittedAt: nowUs / 1000 };
      // Asked again when the wait is over: another caller may have taken the place meanwhile.
      await this.sleep(Math.ceil(waitUs / 1000), signal);
    }
  }

  /**
   * The call's answer is in (or it failed): it holds its place in the window until one window from now.
   * Returns that instant (ms, Redis' clock); undefined when calls are not paced.
   */
  async answered(hash: string, ticket: PacerTicket): Promise<number | undefined> {
    if (this.limit === 0) return undefined;
    return Number(await this.redis.pacerAnswered(this.callsKey(hash), ticket.id, this.now())) / 1000;
  }

  /**
   * After a 429: no call with this key before `ms` from now, and a wider margin for a while. Returns the extra
   * margin now in force, in ms.
   */
  async slowDown(hash: string, ms: number): Promise<number> {
    const extraUs = await this.redis.pacerRateLimited(
      this.adaptKey(hash),
      String(Math.round(ms * 1000)),
      String(Math.round((this.options.extraStepMs ?? 5) * 1000)),
      String(Math.round((this.options.maxExtraMs ?? 50) * 1000)),
      String(this.options.adaptMs ?? 10 * 60_000),
      this.now(),
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

  private now(): string {
    return this.clock ? String(Math.round(this.clock.nowUs())) : '';
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<unknown> {
    return this.clock ? this.clock.sleep(ms, signal) : sleep(ms, undefined, { signal });
  }

  private callsKey(hash: string): string {
    return `${this.prefix}:pace-calls:${hash}`;
  }

  private adaptKey(hash: string): string {
    return `${this.prefix}:pace-adapt:${hash}`;
  }

  private deadKey(hash: string): string {
    return `${this.prefix}:dead:${hash}`;
  }
}
