export { inTransaction, type Queryable } from '@export/database';

/** The control plane's schema: every session of its pool resolves unqualified table names in it. */
export const SCHEMA = 'control_plane';
