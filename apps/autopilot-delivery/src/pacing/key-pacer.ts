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

// Slot reservation (a GCRA-style "next free time" per key), atomic in Redis and timed by Redis' clock, so
// every instance sees one schedule. Times are microseconds, kept as strings: Lua numbers lose digits in
// tostring(). Returns the microseconds to wait before the reserved slot, or -1 when the key is dead: its dead
// flag holds the key version that Autopilot rejected (ARGV[2] is the version in use).
const RESERVE = `
if redis.call('GET', KEYS[2]) == ARGV[2] then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local nextFree = slot + interval
redis.call('SET', KEYS[1], string.format('%.0f', nextFree), 'PX', math.floor((nextFree - now) / 1000) + 60000)
return slot - now
`;

// Pushes the key's next free slot to at least now + ARGV[1] µs (after a 429).
const SLOW_DOWN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local target = now + tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') < target then
  redis.call('SET', KEYS[1], string.format('%.0f', target), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 60000)
end
return 0
`;

type PacerRedis = Redis & {
  pacerReserve(slotKey: string, deadKey: string, intervalUs: string, version: string): Promise<number>;
  pacerSlowDown(slotKey: string, delayUs: string): Promise<number>;
};

export interface KeyPacerOptions {
  /** Requests per second per key; 0 = no pacing (the dead-key check stays). */
  rps: number;
  /** Added to each 1000/rps ms interval. */
  marginMs: number;
  prefix?: string;
  /** How long a rejected key stays dead for every instance. */
  deadTtlMs?: number;
}

/**
 * Paces calls per API key across all delivery instances: requests are spaced evenly at 1000/rps ms plus a
 * margin, because Autopilot (and the simulator) count a strict sliding second, where a burst at the edge of
 * a fixed window would already be too many. rate-limiter-flexible's Redis store expires keys in whole
 * seconds, so it cannot keep 200 ms gaps; this is a two-command Lua script instead.
 */
export class KeyPacer {
  private readonly redis: PacerRedis;
  private readonly intervalUs: number;
  private readonly prefix: string;

  constructor(
    redis: Redis,
    private readonly options: KeyPacerOptions,
  ) {
    this.redis = redis as PacerRedis;
    this.redis.defineCommand('pacerReserve', { numberOfKeys: 2, lua: RESERVE });
    this.redis.defineCommand('pacerSlowDown', { numberOfKeys: 1, lua: SLOW_DOWN });
    this.intervalUs = options.rps > 0 ? Math.round((1000 / options.rps + options.marginMs) * 1000) : 0;
    this.prefix = options.prefix ?? 'autopilot-delivery';
  }

  /**
   * Waits for this key's next slot. Throws KeyRejectedError when this version of the key is dead, or the
   * signal's reason. `version` is the connection's key version (see markDead).
   */
  async acquire(hash: string, signal?: AbortSignal, version = 1): Promise<void> {
    signal?.throwIfAborted();
    const waitUs = Number(
      await this.redis.pacerReserve(this.slotKey(hash), this.deadKey(hash), String(this.intervalUs), String(version)),
    );
    if (waitUs < 0) throw new KeyRejectedError();
    if (waitUs > 0) {
      await sleep(waitUs / 1000, undefined, { signal });
      // The key may have been rejected while this call waited for its slot.
      if (await this.isDead(hash, version)) throw new KeyRejectedError();
    }
  }

  /** After a 429: no call with this key before `ms` from now. */
  async slowDown(hash: string, ms: number): Promise<void> {
    await this.redis.pacerSlowDown(this.slotKey(hash), String(Math.round(ms * 1000)));
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

  private slotKey(hash: string): string {
    return `${this.prefix}:pace:${hash}`;
  }

  private deadKey(hash: string): string {
    return `${this.prefix}:dead:${hash}`;
  }
}
