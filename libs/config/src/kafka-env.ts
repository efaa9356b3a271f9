import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** Secrets among the Kafka settings: never logged (see the logger's redaction list), masked everywhere. */
export const KAFKA_SECRETS = ['KAFKA_SASL_PASSWORD'];

// Compose files and Kubernetes often pass a variable that is set but empty: that means "not set".
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());
const flag = () =>
  z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value),
    z.enum(['true', 'false'], { message: 'must be true or false' }).default('false').transform((v) => v === 'true'),
  );

/** A PEM file read once at start: a missing or unreadable file stops the service with its variable named. */
const caFile = z.string().transform((path, ctx) => {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    ctx.addIssue({ code: 'custom', message: `cannot read the CA file ${path} (${code})` });
    return z.NEVER;
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    ctx.addIssue({ code: 'custom', message: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
    return z.NEVER;
  }
  return { path, pem };
});

/**
 * How every service connects to Kafka: TLS (`KAFKA_SSL`, `KAFKA_SSL_CA`) and SASL (`KAFKA_SASL_*`). Spread
 * into every service's schema by serviceConfig, with checkKafkaEnv for what one field alone cannot check.
 */
export const kafkaEnv = {
  KAFKA_SSL: flag(),
  /** Path of a PEM file with the CA(s) that signed the brokers' certificates; default: Node's trusted CAs. */
  KAFKA_SSL_CA: optional(caFile),
  KAFKA_SASL_MECHANISM: optional(
    z.enum(KAFKA_SASL_MECHANISMS, { message: `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}` }),
  ),
  KAFKA_SASL_USERNAME: optional(z.string()),
  KAFKA_SASL_PASSWORD: optional(z.string()),
  /**
   * Production only: accept the PLAINTEXT protocol (no TLS, and no SASL unless set) where the network itself
   * encrypts and authenticates (e.g. a mesh doing mTLS, or a test on loopback). Warned about at every start.
   */
  KAFKA_ALLOW_PLAINTEXT: flag(),
};

export interface KafkaEnv {
  NODE_ENV?: string;
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA?: { path: string; pem: string };
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism;
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
  KAFKA_ALLOW_PLAINTEXT: boolean;
}

/**
 * Cross-field rules of the Kafka settings, for `.superRefine`: SASL needs its mechanism, user and password
 * together; a CA needs TLS. Production needs both: SASL, because the broker's ACLs are what keeps one service
 * (or an upstream platform) from writing another's topics, and they cannot tell anonymous clients apart;
 * TLS, because messages carry customer data and PLAIN carries the password. Only KAFKA_ALLOW_PLAINTEXT=true,
 * an explicit statement that the network protects the traffic, waives them; each start then says so.
 */
export function checkKafkaEnv(env: KafkaEnv, ctx: z.RefinementCtx): void {
  const issue = (path: keyof KafkaEnv, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const { KAFKA_SASL_MECHANISM: mechanism } = env;
  if (mechanism) {
    if (!env.KAFKA_SASL_USERNAME) issue('KAFKA_SASL_USERNAME', `required when KAFKA_SASL_MECHANISM is set (${mechanism})`);
    if (!env.KAFKA_SASL_PASSWORD) issue('KAFKA_SASL_PASSWORD', `required when KAFKA_SASL_MECHANISM is set (${mechanism})`);
  } else if (env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD) {
    issue('KAFKA_SASL_MECHANISM', `required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set (${KAFKA_SASL_MECHANISMS.join(', ')})`);
  }
  if (env.KAFKA_SSL_CA && !env.KAFKA_SSL) issue('KAFKA_SSL', 'must be true when KAFKA_SSL_CA is set');
  if (env.NODE_ENV !== 'production' || env.KAFKA_ALLOW_PLAINTEXT) return;
  if (!mechanism) {
    issue('KAFKA_SASL_MECHANISM', 'required in production: the broker must know which service connects (its ACLs decide who writes what)');
  }
  if (!env.KAFKA_SSL) {
    issue(
      'KAFKA_SSL',
      'must be true in production (messages carry customer data' + (mechanism === 'plain' ? ' and plain sends the password in clear' : '') +
        '); KAFKA_ALLOW_PLAINTEXT=true only where the network itself encrypts',
    );
  }
}

/** The connection settings kafkajs takes (structurally what @export/kafka's createKafka accepts). */
export interface KafkaSecuritySettings {
  ssl?: boolean | { ca: string[] };
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
  /** Said once at start by the Kafka module: weaker security than production should have, allowed on purpose. */
  warnings: string[];
}

/** Turns validated settings into the client's options, with the warnings to log at start. */
export function kafkaSecurity(env: KafkaEnv): KafkaSecuritySettings {
  const ssl = env.KAFKA_SSL ? (env.KAFKA_SSL_CA ? { ca: [env.KAFKA_SSL_CA.pem] } : true) : undefined;
  const sasl =
    env.KAFKA_SASL_MECHANISM && env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD
      ? { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD }
      : undefined;
  const warnings: string[] = [];
  if (env.NODE_ENV === 'production') {
    if (!ssl && !sasl) {
      warnings.push(
        'Kafka connection is neither encrypted nor authenticated (KAFKA_ALLOW_PLAINTEXT=true): whoever reaches the brokers reads and writes every topic',
      );
    } else if (!ssl) {
      warnings.push('Kafka traffic is not encrypted (KAFKA_ALLOW_PLAINTEXT=true): only a network that encrypts it may carry it');
    } else if (!sasl) {
      warnings.push('Kafka connection is not authenticated (KAFKA_ALLOW_PLAINTEXT=true): the brokers cannot tell this service apart');
    }
  }
  return { ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}), warnings };
}
