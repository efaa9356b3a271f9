import pino, { type Logger } from 'pino';

/**
 * Paths that may carry secrets anywhere in a log record. pino replaces them before the line is written,
 * so an API key or a token can never reach a log even when a whole object is logged by mistake.
 */
export const REDACTED_PATHS = [
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  'req.headers.authorization',
  'req.headers.autopilotapikey',
  'headers.autopilotapikey',
  '*.headers.autopilotapikey',
  'config.headers.autopilotapikey',
  'CREDENTIALS_ENCRYPTION_KEY',
  'AUTH_JWT_SECRET',
  'INTERNAL_AUTH_SECRET',
  'KAFKA_SASL_PASSWORD',
  '*.KAFKA_SASL_PASSWORD',
  '*.sasl.password',
];

export interface LoggerOptions {
  service: string;
  level?: string;
}

/** Structured JSON logs with the service name on every line. */
export function createLogger({ service, level = 'info' }: LoggerOptions): Logger {
  return pino({
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

export type { Logger };
