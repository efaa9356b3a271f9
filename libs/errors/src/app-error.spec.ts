import { AppError, errorMessage, httpStatusOf } from './app-error';

describe('AppError', () => {
  it('retries transient kinds, never bad input', () => {
    expect(new AppError('upstream-unavailable', 'down').retryable).toBe(true);
    expect(new AppError('validation', 'bad', { field: 'email' }).retryable).toBe(false);
    expect(new AppError('contract-violation', 'bad shape').retryable).toBe(false);
  });

  it('maps kinds to HTTP statuses', () => {
    expect(httpStatusOf('validation')).toBe(400);
    expect(httpStatusOf('not-found')).toBe(404);
    expect(httpStatusOf('upstream-rejected')).toBe(422);
    expect(httpStatusOf('upstream-unavailable')).toBe(502);
  });
});

describe('errorMessage', () => {
  it('never carries a NUL character (reasons end up in PostgreSQL text columns and NUL-free contracts)', () => {
    expect(errorMessage(new Error('bad\u0000value'))).toBe('bad\uFFFDvalue');
    expect(errorMessage('x\u0000')).toBe('x\uFFFD');
    expect(errorMessage(new Error('plain'))).toBe('plain');
  });
});
