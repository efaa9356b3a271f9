import { SnapshotFailureCode } from '@export/contracts';
import { AppError } from '@export/errors';

/** The codes of snapshot errors: the run failure codes of the contracts (SnapshotFailureCode), one source. */
export const SNAPSHOT_ERROR_CODES = SnapshotFailureCode.options;
export type SnapshotErrorCode = SnapshotFailureCode;

/**
 * A snapshot that cannot be read as a whole (missing file, outside the tenant folder, not a regular file,
 * over a cap, bad model.json, unknown entity, broken CSV quoting). Never retried: the same files give the
 * same answer. The message names the file as the event or model.json named it, never its content.
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
  return (SNAPSHOT_ERROR_CODES as readonly unknown[]).includes(code) ? (code as SnapshotErrorCode) : undefined;
}

/**
 * A short description of an I/O failure by its errno code. Never the error's own message: for some
 * errors (a parser's, a decoder's) that message quotes the data.
 */
export function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'name too long';
    default:
      return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? `I/O error ${code}` : 'I/O error';
  }
}
