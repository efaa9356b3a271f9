import { AppError } from '@export/errors';
import type { Principal } from '../auth/principal';
import type { ConnectionRecord } from '../connections/connections.repository';
import { asTenantId } from '../database/tenant';
import { assertMayUseConnection } from './export-access';

const principal = (sub: string, role: Principal['role']): Principal => ({
  sub,
  role,
  tenantId: asTenantId('contoso'),
});

const connection = (overrides: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  id: '00000000-0000-4000-8000-000000000001',
  tenantId: 'contoso',
  displayName: 'Autopilot',
  apiKeyLast4: 'abcd',
  status: 'active',
  allowContributors: false,
  exportUsers: [],
  createdAt: new Date(0),
  keyVersion: 1,
  ...overrides,
});

const outcome = (p: Principal, c: ConnectionRecord | undefined) => {
  try {
    assertMayUseConnection(p, c);
    return 'allowed';
  } catch (error) {
    return error instanceof AppError ? `${error.kind}: ${error.message}` : 'other';
  }
};

describe('assertMayUseConnection', () => {
  const admin = principal('alice', 'admin');
  const listed = principal('carol', 'contributor');
  const unlisted = principal('dave', 'contributor');
  const operator = principal('olga', 'operator');

  it('with no export users, follows the sharing setting: admins always, contributors when shared', () => {
    expect(outcome(admin, connection())).toBe('allowed');
    expect(outcome(listed, connection())).toBe('forbidden: This connection is not shared with contributors');
    expect(outcome(listed, connection({ allowContributors: true }))).toBe('allowed');
    expect(outcome(operator, connection({ allowContributors: true }))).toBe(
      'forbidden: Operators cannot change or run exports',
    );
  });

  it('with export users, allows only them and admins (admins need not be listed)', () => {
    const restricted = connection({ allowContributors: true, exportUsers: ['carol'] });
    expect(outcome(admin, restricted)).toBe('allowed');
    expect(outcome(listed, restricted)).toBe('allowed');
    expect(outcome(unlisted, restricted)).toBe(
      'forbidden: Only the export users of this connection and admins may use it',
    );
    expect(outcome(operator, connection({ exportUsers: ['olga'] }))).toBe(
      'forbidden: Operators cannot change or run exports',
    );
  });

  it('never lets a listed contributor through a connection that is not shared with contributors', () => {
    expect(outcome(listed, connection({ exportUsers: ['carol'] }))).toBe(
      'forbidden: This connection is not shared with contributors',
    );
  });

  it('refuses contributors when there is no connection (a detached export), allows admins', () => {
    expect(outcome(admin, undefined)).toBe('allowed');
    expect(outcome(listed, undefined)).toBe('forbidden: This connection is not shared with contributors');
  });
});
