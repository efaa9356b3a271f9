import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

/** The workspace (the folder with nx.json) above the working directory, or the working directory itself. */
function workspaceRoot(from = process.cwd()): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from);
  }
}

/** Where snapshots are looked for in development when SNAPSHOT_ROOT is not set: `<workspace>/tmp/snapshots`. */
export const DEV_SNAPSHOT_ROOT = join(workspaceRoot(), 'tmp', 'snapshots');

/**
 * SNAPSHOT_ROOT: the folder on the shared storage that holds one folder per tenant
 * (`<SNAPSHOT_ROOT>/<tenantId>/`). An absolute path; required in production, DEV_SNAPSHOT_ROOT otherwise.
 * Spread into a service's `env` (serviceConfig), which then resolves it with resolveSnapshotRoot.
 */
export const snapshotEnv = {
  SNAPSHOT_ROOT: z
    .string()
    .trim()
    .min(1)
    .refine((s) => isAbsolute(s), 'must be an absolute path')
    .optional(),
};

export function resolveSnapshotRoot<T extends { NODE_ENV: string; SNAPSHOT_ROOT?: string | undefined }>(
  config: T,
  ctx: z.RefinementCtx,
): Omit<T, 'SNAPSHOT_ROOT'> & { SNAPSHOT_ROOT: string } {
  if (config.SNAPSHOT_ROOT) return { ...config, SNAPSHOT_ROOT: resolve(config.SNAPSHOT_ROOT) };
  if (config.NODE_ENV === 'production') {
    ctx.addIssue({
      code: 'custom',
      path: ['SNAPSHOT_ROOT'],
      message: 'required in production: the folder that holds one folder of snapshots per tenant',
    });
    return z.NEVER;
  }
  return { ...config, SNAPSHOT_ROOT: DEV_SNAPSHOT_ROOT };
}
