import { Command } from 'commander';
import { z } from 'zod';
import { ApiKeySpec, parseApiKeys } from './key-registry';
import { ROUTE_KEYS, SimulatorSwitches, simulatorSwitchesSchema } from './simulator-switches';

/** Validated start configuration of the simulator process. */
export interface SimulatorConfig {
  port: number;
  host: string;
  basePath: string;
  apiKeys: ApiKeySpec[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logRequests: boolean;
  switches: SimulatorSwitches;
}

export class SimulatorConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid autopilot-simulator configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'SimulatorConfigError';
  }
}

interface Setting {
  /** the key in the raw settings object (for switches: the switch name) */
  key: string;
  env: string;
  flag: string;
  description: string;
  /** a flag without a value */
  boolean?: boolean;
  switch?: boolean;
}

/** One table drives the CLI flags, the environment variables and the error messages. */
export const SETTINGS: readonly Setting[] = [
  { key: 'port', env: 'PORT', flag: '--port <port>', description: 'port to listen on (default 8089; 0 = any free port)' },
  { key: 'host', env: 'HOST', flag: '--host <host>', description: 'address to bind (default 127.0.0.1)' },
  { key: 'apiKeys', env: 'SIM_API_KEYS', flag: '--api-keys <keys>', description: 'valid keys, comma-separated; key:account shares an account' },
  { key: 'basePath', env: 'SIM_BASE_PATH', flag: '--base-path <path>', description: 'path of the Autopilot API (default /v1)' },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level <level>', description: 'pino level (default info)' },
  { key: 'logRequests', env: 'SIM_LOG_REQUESTS', flag: '--log-requests', description: 'log every request (slower)', boolean: true },
  { key: 'rateLimitRps', env: 'SIM_RATE_LIMIT_RPS', flag: '--rate-limit-rps <n>', description: 'requests per 1 s sliding window and key (default 5; 0 = unlimited)', switch: true },
  { key: 'retryAfter', env: 'SIM_RETRY_AFTER', flag: '--retry-after', description: 'send Retry-After on 429', boolean: true, switch: true },
  { key: 'duplicateListMode', env: 'SIM_DUPLICATE_LIST_MODE', flag: '--duplicate-list-mode <mode>', description: 'create | conflict (default create)', switch: true },
  { key: 'latencyMs', env: 'SIM_LATENCY_MS', flag: '--latency-ms <ms>', description: 'fixed latency per request', switch: true },
  { key: 'latencyJitterMs', env: 'SIM_LATENCY_JITTER_MS', flag: '--latency-jitter-ms <ms>', description: 'random extra latency in [0, ms)', switch: true },
  { key: 'fail503Probability', env: 'SIM_FAIL_503_PROBABILITY', flag: '--fail-503-probability <p>', description: 'probability of a 503', switch: true },
  { key: 'fail503Next', env: 'SIM_FAIL_503_NEXT', flag: '--fail-503-next <n>', description: 'the next n requests answer 503', switch: true },
  { key: 'hangProbability', env: 'SIM_HANG_PROBABILITY', flag: '--hang-probability <p>', description: 'probability that a request is applied but answered only after hang-ms', switch: true },
  { key: 'hangNext', env: 'SIM_HANG_NEXT', flag: '--hang-next <n>', description: 'the next n requests hang', switch: true },
  { key: 'hangMs', env: 'SIM_HANG_MS', flag: '--hang-ms <ms>', description: 'how long a hung request waits before its answer (default 30000)', switch: true },
  { key: 'force429Next', env: 'SIM_FORCE_429_NEXT', flag: '--force-429-next <n>', description: 'the next n requests answer 429', switch: true },
  { key: 'force429ForMs', env: 'SIM_FORCE_429_FOR_MS', flag: '--force-429-for-ms <ms>', description: 'every request answers 429 for ms after start', switch: true },
  { key: 'badEmailPattern', env: 'SIM_BAD_EMAIL_PATTERN', flag: '--bad-email-pattern <regex>', description: 'contacts whose Email matches make the upsert a 400', switch: true },
  { key: 'dropEmailPattern', env: 'SIM_DROP_EMAIL_PATTERN', flag: '--drop-email-pattern <regex>', description: 'contacts whose Email matches are silently dropped from bulk upserts', switch: true },
  { key: 'revokedKeys', env: 'SIM_REVOKED_KEYS', flag: '--revoked-keys <keys>', description: 'keys answered 401, comma-separated', switch: true },
  { key: 'revokeAfter', env: 'SIM_REVOKE_AFTER', flag: '--revoke-after <key=n,...>', description: 'a key turns 401 after n authenticated requests', switch: true },
  { key: 'faultRoutes', env: 'SIM_FAULT_ROUTES', flag: '--fault-routes <routes>', description: `restrict latency/503/hang/429 faults to routes, comma-separated (${ROUTE_KEYS.join(', ')})`, switch: true },
];

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
const integer = z.coerce.number<unknown>().int();
const decimal = z.coerce.number<unknown>();
const flag = z.union([z.boolean(), z.stringbool()]);
const list = z.string().transform((value) => value.split(',').map((part) => part.trim()).filter((part) => part !== ''));
const countsByKey = z.string().transform((value, context) => {
  const result: Record<string, number> = {};
  for (const part of value.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    const [key, count] = part.split('=');
    const parsed = Number(count);
    if (!key || !Number.isInteger(parsed) || parsed < 0) {
      context.addIssue({ code: 'custom', message: `expected key=count pairs, got "${part}"` });
      return z.NEVER;
    }
    result[key.trim()] = parsed;
  }
  return result;
});

const rawSettingsSchema = z.object({
  port: optional(integer.min(0).max(65535)),
  host: optional(z.string().min(1)),
  apiKeys: optional(z.string()),
  basePath: optional(z.string().regex(/^\/?[^\s?#]*$/, { message: 'must be a URL path such as /v1' })),
  logLevel: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  logRequests: optional(flag),
  rateLimitRps: optional(integer),
  retryAfter: optional(flag),
  duplicateListMode: optional(z.string()),
  latencyMs: optional(integer),
  latencyJitterMs: optional(integer),
  fail503Probability: optional(decimal),
  fail503Next: optional(integer),
  hangProbability: optional(decimal),
  hangNext: optional(integer),
  hangMs: optional(integer),
  force429Next: optional(integer),
  force429ForMs: optional(integer),
  badEmailPattern: optional(z.string()),
  dropEmailPattern: optional(z.string()),
  revokedKeys: optional(list),
  revokeAfter: optional(countsByKey),
  faultRoutes: optional(list),
});

/** The commander program for `main.ts`; every option also has an environment variable. */
export function createCommand(): Command {
  const command = new Command('autopilot-simulator')
    .description('Local simulator of the classic Autopilot REST API (flags override environment variables).')
    .allowExcessArguments(false);
  for (const setting of SETTINGS) command.option(setting.flag, `${setting.description} [env ${setting.env}]`);
  return command;
}

/**
 * Reads the configuration from the environment and the command line (flags win) and validates it.
 * @throws SimulatorConfigError listing every problem with its variable and flag name
 */
export function loadSimulatorConfig(env: Record<string, string | undefined>, args: string[] = []): SimulatorConfig {
  const command = createCommand().exitOverride();
  command.parse(args, { from: 'user' });
  const fromCli = command.opts<Record<string, unknown>>();
  const raw: Record<string, unknown> = {};
  for (const setting of SETTINGS) raw[setting.key] = fromCli[setting.key] ?? env[setting.env];

  // Each setting is parsed on its own so that one run reports every problem at once.
  const problems: string[] = [];
  const values: Partial<z.output<typeof rawSettingsSchema>> = {};
  for (const [key, schema] of Object.entries(rawSettingsSchema.shape)) {
    const result = (schema as z.ZodType).safeParse(raw[key]);
    if (result.success) (values as Record<string, unknown>)[key] = result.data;
    else problems.push(...result.error.issues.map((issue) => describeIssue({ ...issue, path: [key, ...issue.path] })));
  }

  const switchInput: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = values[setting.key as keyof typeof values];
    if (setting.switch && value !== undefined) switchInput[setting.key] = value;
  }
  const switches = simulatorSwitchesSchema.safeParse(switchInput);
  if (!switches.success) problems.push(...switches.error.issues.map(describeIssue));
  if (problems.length > 0 || !switches.success) throw new SimulatorConfigError(problems);

  return {
    port: values.port ?? 8089,
    host: values.host ?? '127.0.0.1',
    basePath: values.basePath ?? '/v1',
    apiKeys: parseApiKeys(values.apiKeys ?? ''),
    logLevel: values.logLevel ?? 'info',
    logRequests: values.logRequests ?? false,
    switches: switches.data,
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = String(issue.path[0] ?? '');
  const setting = SETTINGS.find((candidate) => candidate.key === key);
  const name = setting ? `${setting.env} (${setting.flag.split(' ')[0]})` : key || 'configuration';
  const detail = issue.path.length > 1 ? ` [${issue.path.slice(1).join('.')}]` : '';
  return `${name}${detail}: ${issue.message}`;
}
