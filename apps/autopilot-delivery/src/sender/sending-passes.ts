/**
 * Sending passes of a stepwise run, one at a time, alongside its classification: each classified step asks for a
 * pass (which sends everything pending, then ends); a request while a pass runs is served by one more pass after
 * it. The first failure is kept: no pass starts after it, and the classification loop sees it
 * (`throwIfFailed`, `finished`).
 */
export class SendingPasses {
  private readonly stopping = new AbortController();
  private running?: Promise<void>;
  private wanted = false;
  private failure?: { error: unknown };

  constructor(private readonly pass: (stop: AbortSignal) => Promise<void>) {}

  /** Sends what is pending now: starts a pass, or one more after the pass in hand. */
  request(): void {
    if (this.failure || this.stopping.signal.aborted) return;
    if (this.running) {
      this.wanted = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** Throws the failure of a pass, if one failed. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Waits until no pass runs or is wanted; throws the failure of a pass, if one failed. */
  async finished(): Promise<void> {
    while (this.running) await this.running;
    this.throwIfFailed();
  }

  /** Ends the pass in hand after its calls in hand (their results are recorded) and starts no other. */
  async stop(): Promise<void> {
    this.stopping.abort();
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.wanted = false;
      try {
        await this.pass(this.stopping.signal);
      } catch (error) {
        // A pass stopped by `stop` has not failed: the lane is leaving for a reason of its own.
        if (!this.stopping.signal.aborted) this.failure ??= { error };
        return;
      }
    } while (this.wanted && !this.stopping.signal.aborted);
  }
}
