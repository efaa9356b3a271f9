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

/** Rules across variables; each problem names the variable to fix. */
export type ConfigCheck<S extends z.ZodRawShape> = (
  config: Parsed<S>,
  problem: (variable: keyof Parsed<S> & string, message: string) => void,
) => void;

/**
 * The environment schema of a service: the variables every service has (commonEnv, kafkaEnv, PORT with
 * `port` as default, KAFKA_GROUP_ID with `service`), its own (`env`, with the shared pieces it needs:
 * databaseEnv, snapshotEnv, ...), the checks across them (`check`, then the Kafka security rules) and, with
 * snapshotEnv, SNAPSHOT_ROOT resolved (required in production).
 */
export function serviceConfig<S extends z.ZodRawShape>(service: string, port: number, env: S, check?: ConfigCheck<S>) {
  const withSnapshotRoot = 'SNAPSHOT_ROOT' in env;
  return z
    .object({ ...baseEnv(service, port), ...env })
    .superRefine((config, ctx) => {
      check?.(config as Parsed<S>, (variable, message) => ctx.addIssue({ code: 'custom', path: [variable], message }));
      checkKafkaEnv(config as unknown as KafkaEnv, ctx);
    })
    .transform((config, ctx) => {
      const parsed = config as Parsed<S> & { NODE_ENV: string; SNAPSHOT_ROOT?: string };
      return (withSnapshotRoot ? resolveSnapshotRoot(parsed, ctx) : parsed) as Resolved<Parsed<S>>;
    });
}
