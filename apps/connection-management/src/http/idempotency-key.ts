import { AppError } from '@export/errors';
import type { Request } from 'express';

/** Printable ASCII without spaces, as the IETF Idempotency-Key draft's examples use; at most 255 characters. */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's `Idempotency-Key` header, or undefined; a malformed one is a 400 naming the header. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const value = req.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY.test(value)) {
    throw new AppError('validation', 'Idempotency-Key: 1 to 255 printable ASCII characters, no spaces', {
      field: 'Idempotency-Key',
    });
  }
  return value;
}
