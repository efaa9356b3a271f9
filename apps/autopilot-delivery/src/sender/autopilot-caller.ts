import { AutopilotError, isAutopilotFailure } from '@export/autopilot-client';
import { backoff } from '@export/kafka';
import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import type { Logger } from 'pino';
import type { DeliveryMetrics } from '../metrics/delivery.metrics';
import { KeyRejectedError, type KeyPacer, type PacerTicket } from '../pacing/key-pacer';

export interface CallerOptions {
  /** Attempts on 5xx / timeouts / connection errors (a 429 is pacing, not an attempt). */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** The longest a 429's Retry-After may hold a key back; a longer one is taken as this. */
  maxRetryAfterMs: number;
  /** The most one run (one `forKey`) may wait on 429s in all; past it the run fails RATE_LIMITED_TOO_LONG. */
  maxRateLimitedMs: number;
}

/** One run waited on 429s longer than it may: the destination is not giving this key its rate. */
export class RateLimitedTooLongError extends Error {
  constructor(readonly waitedMs: number) {
    super(
      `Autopilot kept answering 429 (rate limited): the run waited ${Math.round(waitedMs / 1000)} s on it in all ` +
        'and gives up; another client may be using the same key',
    );
    this.name = 'RateLimitedTooLongError';
  }
}

/** One paced, retried Autopilot call with the key identified by its hash. */
export type PacedCall = <T>(route: string, send: () => Promise<T>) => Promise<T>;

/**
 * Every Autopilot call goes through here: wait for the key's slot (shared by all instances), send, and
 * - 429: push the key's next slot back (Retry-After up to a cap, else exponential backoff with jitter) and
 *   send again, until the run has waited on 429s for longer than its bound (RateLimitedTooLongError);
 * - 5xx / timeout / connection error: retry with exponential backoff and jitter (cockatiel), then give up
 *   with the last AutopilotError;
 * - 401: mark the key dead for every instance and throw KeyRejectedError;
 * - 400: thrown to the caller, which isolates the bad contact.
 */
export class AutopilotCaller {
  private readonly policy: RetryPolicy;

  constructor(
    private readonly pacer: KeyPacer,
    private readonly metrics: DeliveryMetrics,
    private readonly options: CallerOptions,
    private readonly logger: Logger,
  ) {
    this.policy = retry(
      handleWhen((error) => isAutopilotFailure(error, 'unavailable')),
      {
        maxAttempts: Math.max(0, options.maxAttempts - 1),
        backoff: new ExponentialBackoff({
          initialDelay: options.initialDelayMs,
          maxDelay: options.maxDelayMs,
        }),
      },
    );
    this.policy.onRetry(({ delay, ...reason }) => {
      this.metrics.retries.inc({ reason: 'unavailable' });
      const error = 'error' in reason ? reason.error : undefined;
      this.logger.warn(
        { delayMs: Math.round(delay), reason: error instanceof Error ? error.message : undefined },
        'Autopilot unavailable; retrying',
      );
    });
  }

  /**
   * A call bound to one key and one abort signal. `log` (the run's logger, with its correlation id) records
   * every call at debug level, so one correlation id leads from the segment event to the last Autopilot call.
   */
  forKey(hash: string, signal: AbortSignal, log: Logger = this.logger, keyVersion = 1): PacedCall {
    const budget = { waitedMs: 0, keyVersion };
    return (route, send) => this.call(hash, route, send, signal, log, budget);
  }

  /** Sends, then tells the pacer the call's answer is in (whatever it was): its place in the window ends then. */
  private async answered<T>(hash: string, ticket: PacerTicket, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } finally {
      // Without it the call holds its place until maxInFlightMs: slower, never unsafe.
      await this.pacer.answered(hash, ticket).catch((error) =>
        this.logger.warn({ err: error }, 'could not record an Autopilot answer with the pacer'),
      );
    }
  }

  private async call<T>(
    hash: string,
    route: string,
    send: () => Promise<T>,
    signal: AbortSignal,
    log: Logger,
    budget: { waitedMs: number; keyVersion: number },
  ): Promise<T> {
    return this.policy.execute(async ({ attempt }) => {
      for (let limited = 1; ; limited++) {
        const ticket = await this.pacer.acquire(hash, signal, budget.keyVersion);
        const started = performance.now();
        try {
          const result = await this.answered(hash, ticket, send);
          this.metrics.responses.inc({ route, status: '200' });
          this.metrics.callDuration.observe({ route }, (performance.now() - started) / 1000);
          log.debug({ route, status: 200, attempt, ms: Math.round(performance.now() - started) }, 'Autopilot call');
          return result;
        } catch (error) {
          const status = error instanceof AutopilotError ? String(error.status ?? 'error') : 'error';
          this.metrics.responses.inc({ route, status });
          log.debug({ route, status, attempt, ms: Math.round(performance.now() - started) }, 'Autopilot call failed');
          if (isAutopilotFailure(error, 'rate-limited')) {
            this.metrics.rateLimited.inc();
            if (budget.waitedMs >= this.options.maxRateLimitedMs) throw new RateLimitedTooLongError(budget.waitedMs);
            this.metrics.retries.inc({ reason: 'rate-limited' });
            const delay = Math.min(error.retryAfterMs ?? backoff(limited, 250, 30_000), this.options.maxRetryAfterMs);
            budget.waitedMs += delay;
            const extraMs = await this.pacer.slowDown(hash, delay);
            log.warn({ route, delayMs: Math.round(delay), extraMarginMs: extraMs }, 'Autopilot answered 429; key slowed down');
            continue;
          }
          if (isAutopilotFailure(error, 'key-rejected')) {
            await this.pacer.markDead(hash, budget.keyVersion);
            throw new KeyRejectedError();
          }
          throw error;
        }
      }
    }, signal);
  }
}
