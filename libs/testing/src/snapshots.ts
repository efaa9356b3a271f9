import { copyFileSync, linkSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { WORKSPACE_ROOT } from './service-process';

/** SNAPSHOT_ROOT of test stacks, the demo and benchmarks (the services' development default too). */
export const TEST_SNAPSHOT_ROOT = join(WORKSPACE_ROOT, 'tmp', 'snapshots');

/** `<root>/<tenantId>/`, created if missing: the only folder the tenant's events may name. */
export function tenantSnapshotDir(tenantId: string, root = TEST_SNAPSHOT_ROOT): string {
  const dir = join(root, tenantId);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Puts a file (e.g. a generated segment shared by benchmarks) into the tenant's folder and returns its path
 * there: a hard link when the file system allows (no copy of big files; a hard link is a regular file of
 * the folder, unlike a symbolic link, which extraction follows and refuses when it leads outside), else a copy.
 */
export function placeSnapshot(tenantId: string, source: string, name = basename(source), root = TEST_SNAPSHOT_ROOT): string {
  const target = join(tenantSnapshotDir(tenantId, root), name);
  try {
    linkSync(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return target;
    copyFileSync(source, target);
  }
  return target;
}
