import { z } from 'zod';

/**
 * Text PostgreSQL can store: no NUL character (U+0000) and no unpaired UTF-16 surrogate. Its text and jsonb
 * refuse NUL ("invalid byte sequence for encoding UTF8: 0x00", "unsupported Unicode escape sequence"), and
 * jsonb refuses the `\ud800` escape JSON.stringify writes for an unpaired surrogate, so a message carrying
 * either could never be stored: it is refused at the edge (dead-lettered with the schema reason) instead of
 * failing deep inside a consumer. The pattern is the one recorded in ALLOWED_TIGHTENINGS
 * (schema-compatibility.ts); it reads UTF-16 code units, as JSON Schema patterns without the `u` flag do.
 */
// eslint-disable-next-line no-control-regex -- refusing NUL is the point
export const STORABLE_TEXT_PATTERN = /^(?:[^\u0000\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;
export const STORABLE_TEXT_MESSAGE = 'must not contain NUL characters (U+0000) or unpaired surrogates';

/** A string of at most `max` characters PostgreSQL can store (see STORABLE_TEXT_PATTERN). */
export const safeText = (max: number) => z.string().max(max).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE);

/** Caps of the text fields of the v1 topics (characters); each is also recorded in ALLOWED_TIGHTENINGS. */
export const TEXT_LIMITS = {
  /** One profile value as it reaches Autopilot (a name, a custom string): 64 Ki characters. */
  value: 65_536,
  /** Segment names (as the public event already capped them), skip messages. */
  name: 500,
  /** Human-readable messages of run events (as run-failed already capped them). */
  message: 2000,
  /** Identifiers and labels that were not capped before (segment ids in rejections, profile ids). */
  id: 200,
  /** A snapshot partition's name (a file name or a model.json partition name). */
  partition: 300,
  /** A snapshot location (a path or a file:// URI): PATH_MAX. */
  location: 4096,
  /** A failure code as it travels (codes are short upper-case words; unknown ones are shown, not refused). */
  code: 100,
} as const;

/** Identifiers travel as opaque, non-empty strings; tenants and segments are named by the upstream platform. */
export const Id = z.string().trim().min(1).max(200).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE);
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
