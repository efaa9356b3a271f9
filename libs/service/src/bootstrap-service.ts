import { assertProductionSecrets, loadConfig } from '@export/config';
import {
  MIGRATE_EXIT_CODES,
  MigrateCommandConfig,
  parseServiceCommand,
  prepareSchemaAtStart,
  runMigrateCommand,
  UsageError,
} from '@export/database';
import { connectKafkaTransport } from '@export/kafka';
import { createLogger } from '@export/logging';
import { Readiness } from '@export/observability';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import type { z } from 'zod';

/** What every service's configuration has (libs/config commonEnv, kafkaEnv and the service's PORT). */
export interface ServiceConfigBase {
  LOG_LEVEL: string;
  PORT: number;
  KAFKA_GROUP_ID: string;
}

/** What a database service's configuration has besides (libs/config databaseEnv, libs/database migrationEnv). */
export interface DatabaseConfigBase {
  DATABASE_URL: string;
  MIGRATE_ON_START: boolean;
  MIGRATION_LOCK_TIMEOUT_MS: number;
}

export interface ServiceDatabase {
  /** The service's own PostgreSQL schema, migrated at start or by `node main.js migrate`. */
  schema: string;
  /** Folder of its SQL migrations: beside main.js, where the build copies them (webpack assets). */
  migrationsDir: string;
}

export interface ServiceDefinition<C extends ServiceConfigBase> {
  /** The service's name: logs, metrics, Kafka client id, messages. */
  name: string;
  /** The zod schema of its environment (see libs/config serviceConfig). */
  config: z.ZodType<C>;
  /** Secrets that production refuses to take at their development default. */
  secrets?: readonly string[];
  /** A service with a database: `node main.js migrate` and the schema's preparation at start. */
  database?: ServiceDatabase;
  /** The root module of the service. */
  module(config: C, logger: Logger): DynamicModule;
  /** Partitions each Kafka handler takes at once unless its `@EventPattern` says (default 1). */
  partitionsConsumedConcurrently?(config: C): number;
  /** More setup of the HTTP app (middleware, filters, documentation) before it starts. */
  configure?(app: INestApplication, config: C): void;
  /** Serves HTTP and says where (default: PORT on 0.0.0.0). */
  listen?(app: INestApplication, config: C): Promise<Record<string, unknown>>;
}

/**
 * Builds and starts a service: configuration (every fault named), the production secrets check, the
 * schema's migrations, the Nest app with the pino logger and shutdown hooks, the Kafka handlers
 * (`@EventPattern`, started once every provider is ready) and the HTTP listener.
 */
export async function bootstrapService<C extends ServiceConfigBase>(
  definition: ServiceDefinition<C>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<INestApplication> {
  const { name } = definition;
  const config = loadConfig(name, definition.config, env);
  if (definition.secrets) assertProductionSecrets(name, config as Record<string, unknown>, [...definition.secrets]);
  const logger = createLogger({ service: name, level: config.LOG_LEVEL });
  if (definition.database) {
    const db = config as C & DatabaseConfigBase;
    await prepareSchemaAtStart({
      databaseUrl: db.DATABASE_URL,
      schema: definition.database.schema,
      dir: definition.database.migrationsDir,
      logger,
      migrateOnStart: db.MIGRATE_ON_START,
      lockTimeoutMs: db.MIGRATION_LOCK_TIMEOUT_MS,
    });
  }
  const app = await NestFactory.create(definition.module(config, logger), { bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks();
  definition.configure?.(app, config);
  await startKafkaHandlers(app, {
    groupId: config.KAFKA_GROUP_ID,
    partitionsConsumedConcurrently: definition.partitionsConsumedConcurrently?.(config),
  });
  const address = definition.listen
    ? await definition.listen(app, config)
    : (await app.listen(config.PORT, '0.0.0.0'), { port: config.PORT });
  logger.info(address, `${name} started`);
  return app;
}

/**
 * Initializes the app (every provider's onModuleInit) and starts its Kafka handlers, each consumer reporting
 * to the service's readiness; what main.ts does through bootstrapService and in-process tests do themselves.
 */
export async function startKafkaHandlers(
  app: INestApplication,
  options: { groupId: string; partitionsConsumedConcurrently?: number },
): Promise<void> {
  await app.init();
  connectKafkaTransport(app, { ...options, readiness: app.get(Readiness) });
  await app.startAllMicroservices();
}

/**
 * The whole `main.ts` of a service: `node main.js` serves (bootstrapService); with a database,
 * `node main.js migrate` applies its schema's migrations and exits. A start that fails exits 1 (a wrong
 * command line 64): the supervisor restarts it.
 */
export function runService<C extends ServiceConfigBase>(definition: ServiceDefinition<C>): void {
  main(definition).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(error instanceof UsageError ? MIGRATE_EXIT_CODES.usage : 1);
  });
}

async function main<C extends ServiceConfigBase>(definition: ServiceDefinition<C>): Promise<void> {
  const { name, database } = definition;
  if (database && parseServiceCommand(name, process.argv.slice(2)) === 'migrate') {
    process.exit(
      await runMigrateCommand({
        service: name,
        schema: database.schema,
        settings: () => {
          // Only the database and the lock: a migrate Job needs no Kafka, API or encryption secrets.
          const config = loadConfig(name, MigrateCommandConfig, process.env);
          return {
            databaseUrl: config.DATABASE_URL,
            dir: database.migrationsDir,
            lockTimeoutMs: config.MIGRATION_LOCK_TIMEOUT_MS,
            logLevel: config.LOG_LEVEL,
          };
        },
      }),
    );
  }
  await bootstrapService(definition);
}
