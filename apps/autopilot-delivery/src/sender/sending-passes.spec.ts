import { SendingPasses } from './sending-passes';

/** A pass the test ends by hand; records the stop signal it was given. */
function controlledPasses() {
  const started: { end: () => void; fail: (error: unknown) => void; stop: AbortSignal }[] = [];
  const passes = new SendingPasses(
    (stop) =>
      new Promise<void>((resolve, reject) => {
        started.push({ end: resolve, fail: reject, stop });
        stop.addEventListener('abort', () => reject(stop.reason));
      }),
  );
  return { passes, started };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SendingPasses', () => {
  it('runs one pass at a time and serves the requests made during a pass with one more pass', async () => {
    const { passes, started } = controlledPasses();
    passes.request();
    passes.request();
    passes.request();
    await tick();
    expect(started).toHaveLength(1);
    started[0].end();
    await tick();
    expect(started).toHaveLength(2);
    started[1].end();
    let finished = false;
    void passes.finished().then(() => (finished = true));
    await tick();
    expect(started).toHaveLength(2);
    expect(finished).toBe(true);
  });

  it('keeps the first failure, starts no pass after it and reports it', async () => {
    const { passes, started } = controlledPasses();
    passes.request();
    passes.request();
    await tick();
    started[0].fail(new Error('Autopilot refused the key'));
    await tick();
    expect(started).toHaveLength(1);
    expect(() => passes.throwIfFailed()).toThrow('Autopilot refused the key');
    await expect(passes.finished()).rejects.toThrow('Autopilot refused the key');
    passes.request();
    await tick();
    expect(started).toHaveLength(1);
  });

  it('stops the pass in hand and waits for it; a pass ended by stop is no failure', async () => {
    const { passes, started } = controlledPasses();
    passes.request();
    passes.request();
    await tick();
    await passes.stop();
    expect(started).toHaveLength(1);
    expect(started[0].stop.aborted).toBe(true);
    expect(() => passes.throwIfFailed()).not.toThrow();
    passes.request();
    await tick();
    expect(started).toHaveLength(1);
  });

  it('is finished at once when no pass was asked for', async () => {
    const { passes, started } = controlledPasses();
    await passes.finished();
    await passes.stop();
    expect(started).toHaveLength(0);
  });
});
