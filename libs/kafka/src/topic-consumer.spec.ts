import { AppError } from '@export/errors';
import { backoff, deadLetterCodeOf } from './topic-consumer';

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

describe('deadLetterCodeOf', () => {
  it("uses the error's own code, so a dead letter says why (e.g. RUN_NOT_CONFIRMED)", () => {
    expect(deadLetterCodeOf(new AppError('forbidden', 'no', { code: 'RUN_NOT_CONFIRMED' }))).toBe(
      'RUN_NOT_CONFIRMED',
    );
  });

  it('falls back to NON_RETRYABLE without a sane code', () => {
    expect(deadLetterCodeOf(new AppError('validation', 'no'))).toBe('NON_RETRYABLE');
    expect(deadLetterCodeOf(new AppError('validation', 'no', { code: 'not a code\n' }))).toBe(
      'NON_RETRYABLE',
    );
    expect(deadLetterCodeOf(new Error('plain'))).toBe('NON_RETRYABLE');
  });
});
