import { AppError } from '@export/errors';
import { UserClaims } from '../auth/principal';
import { asTenantId } from './tenant';

describe('asTenantId (token claims, paths, events)', () => {
  it.each([['..'], ['.'], ['../other'], ['acme/../other'], ['a\\b'], ['a\u0000b'], ['a\nb'], ['x'.repeat(65)], ['']])(
    'refuses %j: not a plain name',
    (value) => {
      expect(() => asTenantId(value)).toThrow(AppError);
      expect(UserClaims.safeParse({ sub: 'u', tid: value, role: 'admin' }).success).toBe(false);
    },
  );

  it('brands a plain name unchanged', () => {
    expect(asTenantId('contoso')).toBe('contoso');
    expect(UserClaims.parse({ sub: 'u', tid: 'contoso', role: 'admin' }).tid).toBe('contoso');
  });
});
