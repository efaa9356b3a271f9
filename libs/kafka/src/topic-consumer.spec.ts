import { backoff } from './topic-consumer';

describe('backoff', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const ceiling = Math.min(30000, 500 * 2 ** (attempt - 1));
      const delay = backoff(attempt, 500, 30000);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });
});
