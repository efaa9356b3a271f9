import { z } from 'zod';
import { ApiError } from './api-error';
import {
  RouteKey,
  SimulatorSwitches,
  SimulatorSwitchesInput,
  simulatorSwitchesSchema,
} from './simulator-switches';

/** Counters that run down as requests arrive; shown next to the switches by `GET /__sim/faults`. */
export interface FaultCounters {
  fail503Next: number;
  hangNext: number;
  force429Next: number;
  /** ms left of the forced-429 burst */
  force429ForMs: number;
  revokeAfter: Record<string, number>;
}

export interface FaultInjectorView {
  switches: SimulatorSwitches;
  remaining: FaultCounters;
}

/**
 * Decides, per request, which injected failure applies. Pure apart from the injected clock and random
 * source, so tests can drive it deterministically.
 */
export class FaultInjector {
  private switches: SimulatorSwitches;
  private remaining503 = 0;
  private remainingHang = 0;
  private remaining429 = 0;
  private force429Until = 0;
  private revokeCountdown = new Map<string, number>();
  private revoked = new Set<string>();
  private routes: Set<string> | null = null;
  private badEmail: RegExp | null = null;
  private dropEmail: RegExp | null = null;

  constructor(
    private readonly startSwitches: SimulatorSwitches,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {
    this.switches = startSwitches;
    this.apply(startSwitches, null);
  }

  get current(): SimulatorSwitches {
    return this.switches;
  }

  /** `PUT` semantics: the start switches overlaid with `input`; every counter starts again. */
  replace(input: unknown): SimulatorSwitches {
    const parsed = parseSwitches({ ...this.startSwitches, ...asObject(input) });
    this.apply(parsed, null);
    return parsed;
  }

  /** `PATCH` semantics: the current switches overlaid with `input`; only the counters named restart. */
  patch(input: unknown): SimulatorSwitches {
    const body = asObject(input);
    const parsed = parseSwitches({ ...this.switches, ...body });
    this.apply(parsed, new Set(Object.keys(body)));
    return parsed;
  }

  /** Back to the start switches and counters. */
  reset(): void {
    this.apply(this.startSwitches, null);
  }

  view(): FaultInjectorView {
    return {
      switches: this.switches,
      remaining: {
        fail503Next: this.remaining503,
        hangNext: this.remainingHang,
        force429Next: this.remaining429,
        force429ForMs: Math.max(0, Math.round(this.force429Until - this.now())),
        revokeAfter: Object.fromEntries(this.revokeCountdown),
      },
    };
  }

  /** True when a switch makes the key answer 401 (revoked now, or its countdown ran out). */
  isRevoked(key: string): boolean {
    return this.revoked.has(key) || this.revokeCountdown.get(key) === 0;
  }

  /** Runs the key's revoke countdown down by one authenticated request. */
  noteAuthenticated(key: string): void {
    const left = this.revokeCountdown.get(key);
    if (left !== undefined && left > 0) this.revokeCountdown.set(key, left - 1);
  }

  force429(route: RouteKey): boolean {
    if (!this.matches(route)) return false;
    if (this.force429Until > 0 && this.now() < this.force429Until) return true;
    if (this.remaining429 > 0) {
      this.remaining429--;
      return true;
    }
    return false;
  }

  /** Extra ms to wait before handling the request; 0 most of the time. */
  latency(route: RouteKey): number {
    const { latencyMs, latencyJitterMs } = this.switches;
    if ((latencyMs === 0 && latencyJitterMs === 0) || !this.matches(route)) return 0;
    return latencyMs + Math.floor(this.random() * latencyJitterMs);
  }

  fail503(route: RouteKey): boolean {
    if (!this.matches(route)) return false;
    if (this.remaining503 > 0) {
      this.remaining503--;
      return true;
    }
    return this.switches.fail503Probability > 0 && this.random() < this.switches.fail503Probability;
  }

  /** ms to hold the answer back after the request was applied, or null to answer at once. */
  hang(route: RouteKey): number | null {
    if (!this.matches(route)) return null;
    if (this.remainingHang > 0) {
      this.remainingHang--;
      return this.switches.hangMs;
    }
    if (this.switches.hangProbability > 0 && this.random() < this.switches.hangProbability) {
      return this.switches.hangMs;
    }
    return null;
  }

  isBadEmail(email: string): boolean {
    return this.badEmail !== null && this.badEmail.test(email);
  }

  isDroppedEmail(email: string): boolean {
    return this.dropEmail !== null && this.dropEmail.test(email);
  }

  private matches(route: RouteKey): boolean {
    return this.routes === null || this.routes.has(route);
  }

  /** @param restart the switch names whose counters restart; null restarts all of them */
  private apply(switches: SimulatorSwitches, restart: Set<string> | null): void {
    const restarts = (name: keyof SimulatorSwitches) => restart === null || restart.has(name);
    this.switches = switches;
    if (restarts('fail503Next')) this.remaining503 = switches.fail503Next;
    if (restarts('hangNext')) this.remainingHang = switches.hangNext;
    if (restarts('force429Next')) this.remaining429 = switches.force429Next;
    if (restarts('force429ForMs')) {
      this.force429Until = switches.force429ForMs > 0 ? this.now() + switches.force429ForMs : 0;
    }
    if (restarts('revokeAfter')) this.revokeCountdown = new Map(Object.entries(switches.revokeAfter));
    this.revoked = new Set(switches.revokedKeys);
    this.routes = switches.faultRoutes.length > 0 ? new Set(switches.faultRoutes) : null;
    this.badEmail = switches.badEmailPattern ? new RegExp(switches.badEmailPattern, 'i') : null;
    this.dropEmail = switches.dropEmailPattern ? new RegExp(switches.dropEmailPattern, 'i') : null;
  }
}

function asObject(input: unknown): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ApiError('bad-request', 'The switches must be a JSON object.');
  }
  return input as Record<string, unknown>;
}

function parseSwitches(input: SimulatorSwitchesInput | Record<string, unknown>): SimulatorSwitches {
  const result = simulatorSwitchesSchema.safeParse(input);
  if (!result.success) throw new ApiError('bad-request', z.prettifyError(result.error));
  return result.data;
}
