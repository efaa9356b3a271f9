/**
 * The delivery ledger's schema. `main.ts` migrates it at start (MIGRATE_ON_START, default true) or, with
 * `node main.js migrate`, as a one-shot command; instances starting together wait on the schema's
 * migration lock and migrate once (libs/database).
 */
export const SCHEMA = 'delivery';
