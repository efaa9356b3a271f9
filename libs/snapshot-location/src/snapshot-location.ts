import { TenantId } from '@export/contracts';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Codes of a location that is refused before any file is touched. `SNAPSHOT_OUTSIDE_TENANT_ROOT`: the
 * location does not name a file inside `<SNAPSHOT_ROOT>/<tenantId>/` (relative, another folder, `..`, a
 * scheme other than file://, a tenant id that is no plain name). `SNAPSHOT_UNREADABLE`: not a usable
 * location at all (a broken file URI).
 */
export type LocationErrorCode = 'SNAPSHOT_OUTSIDE_TENANT_ROOT' | 'SNAPSHOT_UNREADABLE';

export type LocationResult =
  | { ok: true; path: string }
  | { ok: false; code: LocationErrorCode; reason: string };

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
// NUL ends a path in the kernel and control characters have no business in one: never resolved.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The local, normalised absolute path a location names: a `file://` URI (percent-decoded, `..` resolved)
 * or an absolute path. A relative location is resolved against the folder of `relativeTo` (partitions of
 * a model.json) and refused without it. Purely lexical: the storage is not touched.
 */
export function snapshotPath(location: string, relativeTo?: string): LocationResult {
  if (CONTROL.test(location)) return outside('the location contains control characters');
  if (SCHEME.test(location)) {
    if (!/^file:/i.test(location)) return outside('only file:// locations are supported');
    let path: string;
    try {
      path = fileURLToPath(location);
    } catch {
      return { ok: false, code: 'SNAPSHOT_UNREADABLE', reason: 'the location is not a valid file URI' };
    }
    if (CONTROL.test(path)) return outside('the location contains control characters');
    return { ok: true, path: resolve(path) };
  }
  if (isAbsolute(location)) return { ok: true, path: resolve(location) };
  if (relativeTo) return { ok: true, path: resolve(dirname(relativeTo), location) };
  return outside('the location must be absolute (a file:// URI or an absolute path)');
}

/** `<root>/<tenantId>` (normalised), or undefined when the tenant id is not a plain name. */
export function tenantFolder(root: string, tenantId: string): string | undefined {
  if (!TenantId.safeParse(tenantId).success) return undefined;
  return join(resolve(root), tenantId);
}

/** True when `path` is strictly inside `folder` (both absolute and normalised); the folder itself is not. */
export function isInsideFolder(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`);
}

/**
 * The lexical check the control plane makes on an event (no access to the storage): the location,
 * normalised, names a file inside `<root>/<tenantId>/`. Extraction makes it too, then checks the real
 * file (symbolic links, file type) before reading.
 */
export function confineToTenant(root: string, tenantId: string, location: string, relativeTo?: string): LocationResult {
  const folder = tenantFolder(root, tenantId);
  if (!folder) return outside('the tenant id is not a plain name');
  const result = snapshotPath(location, relativeTo);
  if (!result.ok) return result;
  if (!isInsideFolder(folder, result.path))
    return outside(`the location is not inside the tenant's snapshot folder ${folder}${sep}`);
  return result;
}

function outside(reason: string): LocationResult {
  return { ok: false, code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT', reason };
}
