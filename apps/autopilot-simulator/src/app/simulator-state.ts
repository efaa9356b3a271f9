import { ContactStore, DuplicateListTitle, ResubscribeViolation } from './contact-store';
import { FaultInjector, FaultInjectorView } from './fault-injector';
import { ApiKeySpec, KeyRegistry, toApiKeySpec } from './key-registry';
import { KeyRateStats, SlidingWindowRateLimiter } from './rate-limiter';
import { SimulatorSwitchesInput, simulatorSwitchesSchema } from './simulator-switches';

export interface SimulatorStateOptions {
  /** valid keys: `"key"`, `"key:account"` or `{key, account}` */
  apiKeys?: Array<string | ApiKeySpec>;
  /** start switches (rate limit, faults); also what `PUT /__sim/faults` and reset return to */
  switches?: SimulatorSwitchesInput;
  /** ms clock; monotonic by default */
  now?: () => number;
  /** [0, 1) random source for probabilistic faults */
  random?: () => number;
  /** contact and list id generator (without the `person_` / `contactlist_` prefix) */
  newId?: () => string;
}

export interface KeySummary extends Omit<KeyRateStats, 'firstAt' | 'lastAt'> {
  account: string | null;
  revoked: boolean;
  firstAt: string | null;
  lastAt: string | null;
}

export interface SimulatorStats {
  startedAt: string;
  requests: {
    total: number;
    /** `"METHOD /route"` (or `unmatched`) -> status -> count */
    byRoute: Record<string, Record<string, number>>;
  };
  /** every 429 answered, by the limiter or forced */
  rateLimited: number;
  forced429: number;
  missingKey: number;
  unauthorized: number;
  injected503: number;
  hung: number;
  keys: Record<string, KeySummary>;
  contacts: { total: number; byAccount: Record<string, number> };
  lists: Array<{ account: string; list_id: string; title: string; members: number }>;
  resubscribeViolations: { count: number; events: Array<Omit<ResubscribeViolation, 'at'> & { at: string }> };
  duplicateListTitles: { count: number; titles: DuplicateListTitle[] };
  duplicateEmailsInBulk: number;
  contactsWithoutEmail: number;
  unknownFields: Record<string, number>;
  faults: FaultInjectorView;
}

export type SimulatorCounter = 'rateLimited' | 'forced429' | 'missingKey' | 'unauthorized' | 'injected503' | 'hung';

const monotonicNow = () => performance.timeOrigin + performance.now();

/** Everything the simulator knows, shared by the Autopilot API, the control API and in-process tests. */
export class SimulatorState {
  readonly store: ContactStore;
  readonly keys: KeyRegistry;
  readonly rateLimiter: SlidingWindowRateLimiter;
  readonly faults: FaultInjector;
  readonly now: () => number;
  private startedAt: number;
  private byRoute = new Map<string, Record<string, number>>();
  private total = 0;
  private counters: Record<SimulatorCounter, number> = {
    rateLimited: 0,
    forced429: 0,
    missingKey: 0,
    unauthorized: 0,
    injected503: 0,
    hung: 0,
  };

  constructor(options: SimulatorStateOptions = {}) {
    this.now = options.now ?? monotonicNow;
    this.startedAt = this.now();
    this.store = new ContactStore(options.newId);
    this.keys = new KeyRegistry((options.apiKeys ?? []).map(toApiKeySpec));
    const switches = simulatorSwitchesSchema.parse(options.switches ?? {});
    this.faults = new FaultInjector(switches, this.now, options.random ?? Math.random);
    this.rateLimiter = new SlidingWindowRateLimiter(switches.rateLimitRps);
  }

  /** Replaces the switches (start switches overlaid with `input`); throws ApiError on invalid input. */
  replaceSwitches(input: unknown): FaultInjectorView {
    this.faults.replace(input);
    this.rateLimiter.setLimit(this.faults.current.rateLimitRps);
    return this.faults.view();
  }

  /** Changes only the switches named in `input`; throws ApiError on invalid input. */
  patchSwitches(input: unknown): FaultInjectorView {
    this.faults.patch(input);
    this.rateLimiter.setLimit(this.faults.current.rateLimitRps);
    return this.faults.view();
  }

  recordResponse(route: string, status: number): void {
    this.total++;
    let byStatus = this.byRoute.get(route);
    if (!byStatus) {
      byStatus = {};
      this.byRoute.set(route, byStatus);
    }
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }

  count(counter: SimulatorCounter): void {
    this.counters[counter]++;
  }

  /** Forgets all data, statistics and added keys; switches go back to the start switches. */
  reset(): void {
    this.store.reset();
    this.keys.reset();
    this.faults.reset();
    this.rateLimiter.reset();
    this.rateLimiter.setLimit(this.faults.current.rateLimitRps);
    this.byRoute = new Map();
    this.total = 0;
    for (const name of Object.keys(this.counters) as SimulatorCounter[]) this.counters[name] = 0;
    this.startedAt = this.now();
  }

  stats(): SimulatorStats {
    const anomalies = this.store.anomalyReport();
    const keys: Record<string, KeySummary> = {};
    const rates = this.rateLimiter.allStats();
    for (const entry of this.keys.list()) {
      keys[entry.key] = summarise(entry.account, entry.revoked || this.faults.isRevoked(entry.key), rates[entry.key]);
    }
    for (const [key, rate] of Object.entries(rates)) {
      if (!keys[key]) keys[key] = summarise(null, true, rate);
    }
    return {
      startedAt: iso(this.startedAt) as string,
      requests: { total: this.total, byRoute: Object.fromEntries(this.byRoute) },
      ...this.counters,
      keys,
      contacts: this.store.contactCount(),
      lists: this.store.listSummaries(),
      resubscribeViolations: {
        count: anomalies.resubscribeViolations.length,
        events: anomalies.resubscribeViolations.map((event) => ({ ...event, at: iso(event.at) as string })),
      },
      duplicateListTitles: {
        count: anomalies.duplicateListTitles.reduce((sum, entry) => sum + entry.attempts, 0),
        titles: anomalies.duplicateListTitles,
      },
      duplicateEmailsInBulk: anomalies.duplicateEmailsInBulk,
      contactsWithoutEmail: anomalies.contactsWithoutEmail,
      unknownFields: anomalies.unknownFields,
      faults: this.faults.view(),
    };
  }
}

function summarise(account: string | null, revoked: boolean, rate: KeyRateStats | undefined): KeySummary {
  return {
    account,
    revoked,
    requests: rate?.requests ?? 0,
    admitted: rate?.admitted ?? 0,
    rejected: rate?.rejected ?? 0,
    firstAt: iso(rate?.firstAt ?? null),
    lastAt: iso(rate?.lastAt ?? null),
    maxAdmittedInWindow: rate?.maxAdmittedInWindow ?? 0,
    maxRequestsInWindow: rate?.maxRequestsInWindow ?? 0,
    minAdmittedGapMs: rate?.minAdmittedGapMs === null || rate === undefined ? null : round(rate.minAdmittedGapMs),
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
