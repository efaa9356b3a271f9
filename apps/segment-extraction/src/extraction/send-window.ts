/**
 * Keeps at most `size` sends in flight: `add` waits for the oldest once the window is full, so a fast
 * reader is held back by the broker (back-pressure) while a few sends overlap to hide its latency.
 * The first failure is thrown by `add` or `drain`; the caller then retries the whole run.
 */
export class SendWindow {
  private readonly inFlight: Promise<void>[] = [];

  constructor(private readonly size: number) {}

  async add(send: Promise<void>): Promise<void> {
    // Observed here so a failure while an older send is awaited is not an unhandled rejection; it is
    // still thrown when its turn comes.
    send.catch(() => undefined);
    this.inFlight.push(send);
    while (this.inFlight.length >= this.size) await this.inFlight.shift();
  }

  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }
}
