import { z } from 'zod';

export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates an app's environment against its schema and returns the typed configuration, or throws a
 * ConfigError naming every variable at fault (never its value: it may be a secret). Only apps call this,
 * with `process.env`; libraries receive their settings as arguments.
 */
export function loadConfig<S extends z.ZodType>(service: string, schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      service,
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

const DEV_SECRET_MARK = 'dev-only';

/** Where development defaults are accepted: only when set explicitly (jest sets `test` itself). */
const DEVELOPMENT_ENVS = ['development', 'test'] as const;

/**
 * Environment pieces that several services share. `NODE_ENV` fails closed: unset, it is `production`, so a
 * service started without it refuses development secrets; `development` (or `test`) must be set explicitly.
 */
export const commonEnv = {
  NODE_ENV: z.enum([...DEVELOPMENT_ENVS, 'production']).default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'each broker must be host:port')).min(1)),
  /**
   * The group drops a consumer that has not heartbeated for this long: the time a crashed instance's
   * partitions wait before a restarted or surviving one gets them. The broker accepts 6 s to 5 min
   * (group.min/max.session.timeout.ms); below ~6 s a GC pause or a starved CPU evicts healthy members.
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).default(10_000),
  /** Heartbeat period (also of the pacemaker during long handlers); at most a third of the session timeout. */
  KAFKA_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).default(1_000),
  /** How long a rebalance waits for live members to rejoin before it goes on without them. */
  KAFKA_REBALANCE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(20_000),
  /**
   * Largest Kafka message a service sends (key, value, headers), in bytes: a larger one is refused before it
   * is sent (MESSAGE_TOO_LARGE, a permanent failure). At most the broker's `max.message.bytes`.
   */
  KAFKA_MAX_MESSAGE_BYTES: z.coerce.number().int().min(65_536).max(104_857_600).default(1_000_000),
};

/** The group timings of a config parsed with commonEnv (see @export/kafka ConsumerTimings). */
export function kafkaConsumerTimings(config: {
  KAFKA_SESSION_TIMEOUT_MS: number;
  KAFKA_HEARTBEAT_INTERVAL_MS: number;
  KAFKA_REBALANCE_TIMEOUT_MS: number;
}) {
  return {
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: Math.min(config.KAFKA_HEARTBEAT_INTERVAL_MS, Math.floor(config.KAFKA_SESSION_TIMEOUT_MS / 3)),
    rebalanceTimeoutMs: config.KAFKA_REBALANCE_TIMEOUT_MS,
  };
}

export const databaseEnv = {
  DATABASE_URL: z
    .string()
    .default('postgres://postgres@127.0.0.1:5432/segment_export')
    .refine((s) => /^postgres(ql)?:\/\//.test(s), 'must be a postgres:// URL'),
  /** A statement running longer is cancelled by the server (0 = no limit). */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /** A session idle inside an open transaction longer is terminated by the server (0 = no limit). */
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /** Connecting to the server takes at most this long (0 = no limit). */
  DATABASE_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(5_000),
  /** Client side: a query unanswered after this long fails, also when the server is gone (0 = no limit). */
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).default(65_000),
};

/** The pool timeouts of a config parsed with databaseEnv (see @export/database DatabaseTimeouts). */
export function databaseTimeouts(config: {
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: number;
  DATABASE_CONNECTION_TIMEOUT_MS: number;
  DATABASE_QUERY_TIMEOUT_MS: number;
}) {
  return {
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    connectionTimeoutMs: config.DATABASE_CONNECTION_TIMEOUT_MS,
    queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
  };
}

/** A secret with a development default; production refuses to start while the default is in place. */
export function secretEnv(devDefault: string, minLength = 32) {
  return z.string().min(minLength, `must be at least ${minLength} characters`).default(`${DEV_SECRET_MARK}-${devDefault}`);
}

/** True only when `NODE_ENV` was set explicitly to `development` or `test`: development defaults may apply. */
export function allowsDevelopmentDefaults(config: { NODE_ENV?: unknown }): boolean {
  return (DEVELOPMENT_ENVS as readonly unknown[]).includes(config.NODE_ENV);
}

/**
 * Outside development (production, and an unset `NODE_ENV`) refuses development secrets: call on the
 * parsed config with the names of its secrets; the error names each one still at its development default.
 */
export function assertProductionSecrets(service: string, config: Record<string, unknown>, secretNames: string[]): void {
  if (allowsDevelopmentDefaults(config)) return;
  const problems = secretNames
    .filter((name) => String(config[name] ?? '').startsWith(DEV_SECRET_MARK))
    .map(
      (name) =>
        `${name}: a real secret is required in production (the development default is set; ` +
        'development defaults apply only with NODE_ENV=development)',
    );
  if (problems.length) throw new ConfigError(service, problems);
}
