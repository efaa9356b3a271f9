import { AppError } from '@export/errors';

export type SnapshotErrorCode = 'SNAPSHOT_UNREADABLE' | 'ENTITY_NOT_FOUND' | 'INVALID_SNAPSHOT';

/**
 * A snapshot that cannot be read as a whole (missing file, bad model.json, unknown entity, broken CSV
 * quoting). Never retried: the same files give the same answer. The message names the file.
 */
export function snapshotError(
  code: SnapshotErrorCode,
  file: string,
  message: string,
  cause?: unknown,
): AppError {
  return new AppError('validation', message, { code, file }, { cause });
}

/** The stable code of a snapshot error, or undefined for anything else. */
export function snapshotErrorCode(error: unknown): SnapshotErrorCode | undefined {
  if (!(error instanceof AppError)) return undefined;
  const code = error.details.code;
  return code === 'SNAPSHOT_UNREADABLE' || code === 'ENTITY_NOT_FOUND' || code === 'INVALID_SNAPSHOT'
    ? code
    : undefined;
}

export function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
