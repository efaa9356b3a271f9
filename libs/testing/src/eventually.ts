/**
 * Polls `probe` until it stops throwing (or returns a truthy value) and returns its last result.
 * Tests await asynchronous outcomes with this, never with fixed sleeps.
 */
type Falsy = false | undefined | null;

export async function expectEventually<T>(
  probe: () => Promise<T | Falsy> | T | Falsy,
  { timeoutMs = 20000, intervalMs = 100, message = 'condition' }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await probe();
      if (result !== false && result !== undefined && result !== null) return result as T;
      lastError = new Error(`${message}: probe returned ${String(result)}`);
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}: ${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
