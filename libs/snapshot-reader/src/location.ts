import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshotError } from './snapshot-error';

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Turns a snapshot location (a file:// URI or a plain path) into a local path. Partition locations of a
 * CDM folder may also be relative to the folder of model.json (`relativeTo`).
 */
export function toLocalPath(location: string, relativeTo?: string): string {
  if (SCHEME.test(location)) {
    if (!location.toLowerCase().startsWith('file://')) {
      throw snapshotError(
        'SNAPSHOT_UNREADABLE',
        location,
        `Cannot read ${location}: only file:// locations are supported`,
      );
    }
    try {
      return fileURLToPath(location);
    } catch (error) {
      throw snapshotError(
        'SNAPSHOT_UNREADABLE',
        location,
        `Cannot read ${location}: not a valid file URI`,
        error,
      );
    }
  }
  if (isAbsolute(location) || !relativeTo) return resolve(location);
  return resolve(dirname(relativeTo), location);
}
