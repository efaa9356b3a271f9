import { principalOf } from './principal';

const names = { tenant: 'tid', role: 'role' };

describe('principalOf', () => {
  it('reads tenant and role from the configured claim names', () => {
    expect(principalOf({ sub: 'alice', tid: 'contoso', role: 'admin' }, names)).toEqual({
      sub: 'alice',
      tenantId: 'contoso',
      role: 'admin',
    });
    const custom = { tenant: 'https://segment-export.test/tenant', role: 'app_role' };
    expect(
      principalOf(
        { sub: 'bob', 'https://segment-export.test/tenant': 'fabrikam', app_role: 'operator' },
        custom,
      ),
    ).toEqual({ sub: 'bob', tenantId: 'fabrikam', role: 'operator' });
  });

  it('refuses service tokens (403) on public routes, whatever their tenant', () => {
    for (const payload of [
      { sub: 'autopilot-delivery', tid: '*', role: 'service' },
      { sub: 'x', tid: 'contoso', role: 'service' },
      { sub: 'x', tid: '*', role: 'admin' },
    ]) {
      expect(() => principalOf(payload, names)).toThrow(
        expect.objectContaining({
          kind: 'forbidden',
          message: 'Service tokens may only call internal routes',
        }),
      );
    }
  });

  it('refuses missing or unknown claims (401) naming the claim, not its value', () => {
    const cases = [
      { sub: 'alice', role: 'admin' },
      { sub: 'alice', tid: 'contoso', role: 'root' },
      { sub: 'alice', tid: 'contoso' },
      { tid: 'contoso', role: 'admin' },
      { sub: 'alice', tid: ['contoso'], role: 'admin' },
      { sub: 'alice', tid: 'contoso', role: ['admin'] },
    ];
    for (const payload of cases) {
      expect(() => principalOf(payload, { tenant: 'tid', role: 'role' })).toThrow(
        expect.objectContaining({
          kind: 'unauthenticated',
          message: 'Token claims sub, tid and role (one of admin, contributor, operator) are required',
        }),
      );
    }
    // With other names, the message names those.
    expect(() =>
      principalOf({ sub: 'a', tid: 'contoso', role: 'admin' }, { tenant: 'org', role: 'role' }),
    ).toThrow(/Token claims sub, org and role/);
  });
});
