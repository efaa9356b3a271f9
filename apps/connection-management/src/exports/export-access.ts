import { AppError } from '@export/errors';
import type { Principal } from '../auth/principal';
import type { ConnectionRecord } from '../connections/connections.repository';

/**
 * Who may set up or run an export through a connection: admins always, contributors only through
 * connections shared with contributors; operators never (they run the platform, not the tenant's exports).
 */
export function assertMayUseConnection(principal: Principal, connection: ConnectionRecord | undefined): void {
  switch (principal.role) {
    case 'admin':
      return;
    case 'contributor':
      if (connection?.allowContributors) return;
      throw new AppError('forbidden', 'This connection is not shared with contributors');
    case 'operator':
      throw new AppError('forbidden', 'Operators cannot change or run exports');
  }
}
