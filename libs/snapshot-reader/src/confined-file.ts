import { constants, type Stats } from 'node:fs';
import { lstat, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { confineToTenant, isInsideFolder, tenantFolder } from '@export/snapshot-location';
import { safeLocation } from './safe-text';
import { describeIoError, snapshotError } from './snapshot-error';
import type { SnapshotScope } from './snapshot-record';

/** A snapshot file that passed every check, open for reading. */
export interface ConfinedFile {
  /** The location as the event or model.json named it, made printable (what errors show). */
  name: string;
  handle: FileHandle;
  size: number;
  /** Streams exactly the bytes of the checked file descriptor (up to the size it had when checked). */
  stream(highWaterMark: number): Readable;
  close(): Promise<void>;
}

// O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the last component was resolved by
// realpath already, so a link swapped in since is refused; O_NOCTTY: a terminal never becomes ours.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY;

/**
 * Opens a snapshot file only if it is a regular file inside `<root>/<tenantId>/` after every symbolic link,
 * then checks it against the size cap. In order: the lexical check; realpath of the tenant folder and of
 * the file, the file inside the folder; open without following or blocking; fstat of the descriptor (a
 * regular file, under the cap); the descriptor's own path (/proc/self/fd on Linux, else realpath again)
 * inside the folder and the same file (device and inode) as the descriptor, so a path swapped between the
 * checks and the open is caught. Nothing is read before all of this passed; reading uses the descriptor.
 *
 * Throws SNAPSHOT_OUTSIDE_TENANT_ROOT, SNAPSHOT_NOT_REGULAR_FILE, SNAPSHOT_TOO_LARGE or SNAPSHOT_UNREADABLE
 * naming `location` (never where a link pointed: that may be another tenant's file).
 */
export async function openConfined(
  scope: SnapshotScope,
  location: string,
  maxBytes: number,
  relativeTo?: string,
): Promise<ConfinedFile> {
  const name = safeLocation(location);
  const lexical = confineToTenant(scope.root, scope.tenantId, location, relativeTo);
  if (!lexical.ok) throw snapshotError(lexical.code, name, `Refused ${name}: ${lexical.reason}`);
  const folder = await realFolder(scope, name);
  const unreadable = (error: unknown) =>
    snapshotError('SNAPSHOT_UNREADABLE', name, `Cannot read ${name}: ${describeIoError(error)}`, error);
  const outside = () =>
    snapshotError(
      'SNAPSHOT_OUTSIDE_TENANT_ROOT',
      name,
      `Refused ${name}: after symbolic links it is not inside the tenant's snapshot folder`,
    );

  const real = await realpath(lexical.path).catch(async (error: unknown) => {
    // A link that leads nowhere is refused like one that leads outside: "no such file" behind a link
    // would tell a tenant whether a path outside its folder exists.
    if (await throughSymlink(lexical.path, join(resolve(scope.root), scope.tenantId))) throw outside();
    throw unreadable(error);
  });
  if (!isInsideFolder(folder, real)) throw outside();
  const handle = await open(real, OPEN_FLAGS).catch((error: unknown) => {
    // ELOOP under O_NOFOLLOW: the last component became a symbolic link after realpath.
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw outside();
    throw unreadable(error);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw snapshotError(
        'SNAPSHOT_NOT_REGULAR_FILE',
        name,
        `Refused ${name}: not a regular file (${kindOf(stats)})`,
      );
    }
    const opened = await descriptorPath(handle, real);
    const again = await stat(opened).catch(() => undefined);
    if (!isInsideFolder(folder, opened) || !again || again.dev !== stats.dev || again.ino !== stats.ino)
      throw outside();
    if (stats.size > maxBytes) {
      throw snapshotError(
        'SNAPSHOT_TOO_LARGE',
        name,
        `Refused ${name}: ${stats.size} bytes, over the cap of ${maxBytes} bytes`,
      );
    }
    const size = stats.size;
    let stream: Readable | undefined;
    return {
      name,
      handle,
      size,
      stream: (highWaterMark) => {
        // The stream owns the descriptor from here on (autoClose): destroying it closes the file.
        stream =
          size === 0
            ? Readable.from([])
            : handle.createReadStream({ start: 0, end: size - 1, highWaterMark, autoClose: true });
        return stream;
      },
      close: async () => {
        if (!stream || size === 0) return handle.close().catch(() => undefined);
        if (stream.closed) return;
        const closed = new Promise<void>((resolve) => stream?.once('close', () => resolve()));
        stream.destroy();
        await closed;
      },
    };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** realpath of the tenant folder; it must be `<realpath of root>/<tenantId>` (not a link elsewhere). */
async function realFolder(scope: SnapshotScope, name: string): Promise<string> {
  const root = await realpath(scope.root).catch((error: unknown) => {
    throw snapshotError('SNAPSHOT_UNREADABLE', name, `Cannot read ${name}: the snapshot root is unavailable (${describeIoError(error)})`, error);
  });
  const folder = tenantFolder(root, scope.tenantId);
  if (!folder) throw snapshotError('SNAPSHOT_OUTSIDE_TENANT_ROOT', name, `Refused ${name}: the tenant id is not a plain name`);
  const real = await realpath(folder).catch((error: unknown) => {
    throw snapshotError('SNAPSHOT_UNREADABLE', name, `Cannot read ${name}: the tenant has no snapshot folder (${describeIoError(error)})`, error);
  });
  if (real !== join(root, scope.tenantId))
    throw snapshotError('SNAPSHOT_OUTSIDE_TENANT_ROOT', name, `Refused ${name}: the tenant's snapshot folder is a link elsewhere`);
  return real;
}

/** True when the path, or a folder on the way to it below `top`, is a symbolic link. */
async function throughSymlink(path: string, top: string): Promise<boolean> {
  for (let at = path; at.length > top.length && at.startsWith(top); at = dirname(at)) {
    const stats = await lstat(at).catch(() => undefined);
    if (stats?.isSymbolicLink()) return true;
  }
  return false;
}

/** Where the descriptor really points: /proc/self/fd on Linux; elsewhere realpath of the opened path again. */
async function descriptorPath(handle: FileHandle, opened: string): Promise<string> {
  const viaProc = await realpath(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
  if (viaProc && viaProc.startsWith('/')) return viaProc;
  return realpath(opened).catch(() => opened);
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}
