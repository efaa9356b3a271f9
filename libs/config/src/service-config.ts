import { z } from 'zod';
import { checkKafkaEnv, kafkaEnv, type KafkaEnv } from './kafka-env';
import { commonEnv } from './load-config';
import { resolveSnapshotRoot } from './snapshot-env';

function baseEnv(service: string, port: number) {
  return {
    ...commonEnv,
    ...kafkaEnv,
    /** REST (where the service has it), health, readiness and metrics. */
    PORT: z.coerce.number().int().min(1).max(65535).default(port),
    /** The service's consumer group; handlers in groups of their own derive theirs from it (see @EventPattern). */
    KAFKA_GROUP_ID: z.string().min(1).default(service),
  };
}

type BaseEnv = ReturnType<typeof baseEnv>;
type Parsed<S extends z.ZodRawShape> = z.infer<z.ZodObject<BaseEnv & S>>;
/** With snapshotEnv among its variables, a configuration's SNAPSHOT_ROOT is always set (see resolveSnapshotRoot). */
type Resolved<T> = 'SNAPSHOT_ROOT' extends keyof T ? Omit<T, 'SNAPSHOT_ROOT'> & { SNAPSHOT_ROOT: string } : T;

export interface ServiceConfigOptions<S extends z.ZodRawShape> {
  /** The service's name: the default KAFKA_GROUP_ID. */
  service: string;
  /** The default PORT. */
  port: number;
  /** The service's own variables (with the shared pieces it needs: databaseEnv, snapshotEnv, ...). */
  env: S;
  /** Rules across variables; each problem names the variable to fix. */
  check?(config: Parsed<S>, problem: (variable: keyof Parsed<S> & string, message: string) => void): void;
}

/**
 * The environment schema of a service: the variables every service has (commonEnv, kafkaEnv, PORT,
 * KAFKA_GROUP_ID), its own, the checks across them (the service's, then the Kafka security rules) and, with
 * snapshotEnv, SNAPSHOT_ROOT resolved (required in production).
 */
export function serviceConfig<S extends z.ZodRawShape>(options: ServiceConfigOptions<S>) {
  const withSnapshotRoot = 'SNAPSHOT_ROOT' in options.env;
  return z
    .object({ ...baseEnv(options.service, options.port), ...options.env })
    .superRefine((config, ctx) => {
      const env = config as Parsed<S>;
      options.check?.(env, (variable, message) => ctx.addIssue({ code: 'custom', path: [variable], message }));
      checkKafkaEnv(config as unknown as KafkaEnv, ctx);
    })
    .transform((config, ctx) => {
      const env = config as Parsed<S> & { NODE_ENV: string; SNAPSHOT_ROOT?: string };
      return (withSnapshotRoot ? resolveSnapshotRoot(env, ctx) : env) as Resolved<Parsed<S>>;
    });
}
