import { AppError } from '@export/errors';
import type { Principal } from '../auth/principal';
import type { ConnectionRecord } from '../connections/connections.repository';

/**
 * Who may set up (create, edit, delete), run or cancel an export through a connection: admins always;
 * contributors only through connections shared with contributors and, when the connection lists export
 * users, only if they are one of them (an empty list leaves it to the sharing setting); operators never
 * (they run the platform, not the tenant's exports). `undefined` is a detached export: admins only.
 */
export function assertMayUseConnection(principal: Principal, connection: ConnectionRecord | undefined): void {
  switch (principal.role) {
    case 'admin':
      return;
    case 'contributor':
      if (!connection?.allowContributors)
        throw new AppError('forbidden', 'This connection is not shared with contributors');
      if (connection.exportUsers.length > 0 && !connection.exportUsers.includes(principal.sub))
        throw new AppError('forbidden', 'Only the export users of this connection and admins may use it');
      return;
    case 'operator':
      throw new AppError('forbidden', 'Operators cannot change or run exports');
  }
}
