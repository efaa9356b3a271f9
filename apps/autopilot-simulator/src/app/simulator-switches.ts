import { z } from 'zod';

/** Every Autopilot route the simulator serves, as `METHOD /path` relative to the base path. */
export const ROUTE_KEYS = [
  'GET /account',
  'POST /contact',
  'GET /contact/:contactIdOrEmail',
  'POST /contact/:contactIdOrEmail/unsubscribe',
  'POST /contacts',
  'GET /contacts/custom_fields',
  'GET /lists',
  'POST /list',
  'POST /list/:listId/contact/:contactIdOrEmail',
  'DELETE /list/:listId/contact/:contactIdOrEmail',
  'GET /list/:listId/contacts',
  'GET /list/:listId/contacts/:bookmark',
] as const;
export type RouteKey = (typeof ROUTE_KEYS)[number];

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}

const count = z.number().int().min(0);
const probability = z.number().min(0).max(1);
const emailPattern = z
  .string()
  .min(1)
  .refine(isValidRegex, { message: 'must be a valid regular expression' })
  .nullable();

/**
 * The switches that can be set at start (env / CLI) and at runtime (`PUT|PATCH /__sim/faults`).
 * Strict: an unknown switch name is an error, so a typo in a test never silently does nothing.
 */
export const simulatorSwitchesSchema = z.strictObject({
  /** admitted requests per 1000 ms sliding window and API key; 0 = unlimited */
  rateLimitRps: count.default(5),
  /** add `Retry-After` (whole seconds) to 429 answers; real Autopilot does not document one */
  retryAfter: z.boolean().default(false),
  /** `POST /list` with a title that already exists: create a second list, or answer 409 */
  duplicateListMode: z.enum(['create', 'conflict']).default('create'),
  /** added before every matching request is handled */
  latencyMs: count.default(0),
  /** uniformly random extra latency in [0, latencyJitterMs) */
  latencyJitterMs: count.default(0),
  fail503Probability: probability.default(0),
  /** the next N matching requests answer 503 and change nothing */
  fail503Next: count.default(0),
  hangProbability: probability.default(0),
  /** the next N matching requests are applied but answered only after `hangMs` */
  hangNext: count.default(0),
  hangMs: count.default(30_000),
  /** the next N matching requests answer 429 (not counted as admitted) */
  force429Next: count.default(0),
  /** every matching request answers 429 for this many ms from when the switch is set */
  force429ForMs: count.default(0),
  /** contacts whose Email matches (case-insensitive regex) make `POST /contacts` and `POST /contact` answer 400 */
  badEmailPattern: emailPattern.default(null),
  /** contacts whose Email matches are silently not stored by `POST /contacts` and left out of its map */
  dropEmailPattern: emailPattern.default(null),
  /** keys answered 401 while this switch holds them */
  revokedKeys: z.array(z.string().min(1)).default([]),
  /** key -> number of further authenticated requests before the key turns 401 */
  revokeAfter: z.record(z.string().min(1), count).default({}),
  /** restrict latency, 503, hang and forced 429 to these routes; empty = every route */
  faultRoutes: z.array(z.enum(ROUTE_KEYS)).default([]),
});

export type SimulatorSwitches = z.output<typeof simulatorSwitchesSchema>;
export type SimulatorSwitchesInput = z.input<typeof simulatorSwitchesSchema>;

export const DEFAULT_SWITCHES: SimulatorSwitches = simulatorSwitchesSchema.parse({});
