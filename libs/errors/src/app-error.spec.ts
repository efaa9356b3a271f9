import { AppError, errorMessage, httpStatusOf, storableText } from './app-error';

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

describe('storableText', () => {
  it('replaces NUL and unpaired surrogates with U+FFFD, keeps pairs, and cuts without splitting a pair', () => {
    expect(storableText('a\u0000b\ud83dc\ude00d\ud83d\ude00')).toBe('a\uFFFDb\uFFFDc\uFFFDd\ud83d\ude00');
    expect(storableText('ab\ud83d\ude00', 3)).toBe('ab');
    expect(storableText('abc', 3)).toBe('abc');
  });

  it('keeps errorMessage free of unpaired surrogates', () => {
    expect(errorMessage(new Error('x\ud800'))).toBe('x\uFFFD');
  });
});
