import pino from 'pino';
import type { DeliveryConfig } from '../config';
import { DeliveryMetrics } from '../metrics/delivery.metrics';
import type { LeasedRun, RunsRepository } from '../runs/runs.repository';
import { SenderService } from './sender.service';

const lanes: { runId: string; stopped: boolean }[] = [];

// A lane that works until it is stopped, so the loop sees its run again while it is still at work.
jest.mock('./run-lane', () => ({
  RunLane: class {
    private readonly entry: { runId: string; stopped: boolean };
    private release?: () => void;
    constructor(run: { runId: string }) {
      this.entry = { runId: run.runId, stopped: false };
      lanes.push(this.entry);
    }
    get runId() {
      return this.entry.runId;
    }
    stop() {
      this.entry.stopped = true;
      this.release?.();
    }
    execute() {
      return new Promise<void>((resolve) => (this.release = resolve));
    }
  },
}));

describe('SenderService', () => {
  it('never starts a second lane for a run its own lane is still delivering (its lease ran out in a stall)', async () => {
    const run = { runId: 'run-1', tenantId: 't', state: 'delivering' } as LeasedRun;
    let leases = 0;
    // Every poll hands the run back, as `lease` does once the lease expired: the same owner leases it again.
    const repo = {
      lease: async () => {
        leases++;
        return [run];
      },
      renew: async () => new Set([run.runId]),
    } as unknown as RunsRepository;
    const config = {
      DELIVERY_MAX_RUNS: 4,
      DELIVERY_LEASE_MS: 10_000,
      DELIVERY_POLL_MS: 5,
      CREDENTIALS_CACHE_MS: 1000,
      DELIVERY_MAX_ATTEMPTS: 1,
      DELIVERY_RETRY_INITIAL_MS: 1,
      DELIVERY_RETRY_MAX_MS: 1,
      AUTOPILOT_MAX_RETRY_AFTER_MS: 1,
      DELIVERY_MAX_RATE_LIMITED_MS: 1,
      AUTOPILOT_BASE_URL: 'http://127.0.0.1:1/v1',
      AUTOPILOT_TIMEOUT_MS: 1000,
      DELIVERY_CALLS_PER_RUN: 1,
    } as unknown as DeliveryConfig;
    const sender = new SenderService(
      config,
      pino({ level: 'silent' }),
      {} as never,
      repo,
      {} as never,
      {} as never,
      new DeliveryMetrics(),
      {} as never,
    );
    sender.onApplicationBootstrap();
    while (leases < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    await sender.beforeApplicationShutdown();
    expect(lanes).toEqual([{ runId: 'run-1', stopped: true }]);
  });
});
