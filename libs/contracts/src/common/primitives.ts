import { z } from 'zod';

/** Identifiers travel as opaque, non-empty strings; tenants and segments are named by the upstream platform. */
export const Id = z.string().trim().min(1).max(200);
/**
 * A tenant id names the tenant's own folder under SNAPSHOT_ROOT, so it must be a plain name: 1 to 64
 * characters, no `/` or `\`, no control characters (C0, DEL, C1, line/paragraph separators), not
 * starting with `.` or white space, no `..` anywhere, not ending with white space. This is the one
 * definition: every topic's contract and the control plane's `asTenantId` use it.
 */
export const TENANT_ID_MAX_LENGTH = 64;
export const TENANT_ID_PATTERN =
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  /^(?![.\s])(?!.*\.\.)(?!.*\s$)[^\u0000-\u001f\u007f-\u009f\u2028\u2029/\\]+$/;
export const TenantId = z
  .string()
  .min(1)
  .max(TENANT_ID_MAX_LENGTH)
  .regex(
    TENANT_ID_PATTERN,
    'must be a plain name: no "/", "\\", "..", control characters, leading "." or white space at either end',
  )
  .describe('Tenant identifier (customer of the platform): a plain name, the folder of its snapshots');
export const RunId = z.uuid().describe('Export run identifier');
export const IsoDateTime = z.iso.datetime({ offset: true });
