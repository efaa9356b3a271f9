import { AppError, httpStatusOf, isRetryable } from './app-error';

describe('AppError', () => {
  it('retries transient kinds and unknown errors, never bad input', () => {
    expect(isRetryable(new AppError('upstream-unavailable', 'down'))).toBe(true);
    expect(isRetryable(new Error('bug'))).toBe(true);
    expect(isRetryable(new AppError('validation', 'bad', { field: 'email' }))).toBe(false);
    expect(isRetryable(new AppError('contract-violation', 'bad shape'))).toBe(false);
  });

  it('maps kinds to HTTP statuses', () => {
    expect(httpStatusOf('validation')).toBe(400);
    expect(httpStatusOf('not-found')).toBe(404);
    expect(httpStatusOf('upstream-rejected')).toBe(422);
    expect(httpStatusOf('upstream-unavailable')).toBe(502);
  });
});
