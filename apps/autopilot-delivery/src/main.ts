import 'reflect-metadata';
import { assertProductionSecrets, loadConfig } from '@export/config';
import { MIGRATE_EXIT_CODES, parseServiceCommand, prepareSchemaAtStart, runMigrateCommand, UsageError } from '@export/database';
import { createLogger } from '@export/logging';
import { NestFactory } from '@nestjs/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { DeliveryConfig, DeliveryMigrateConfig, SECRET_NAMES } from './config';
import { SCHEMA } from './database/prepare-database';

const SERVICE = 'autopilot-delivery';

async function bootstrap(): Promise<void> {
  const config = loadConfig(SERVICE, DeliveryConfig, process.env);
  assertProductionSecrets(SERVICE, config, SECRET_NAMES);
  const logger = createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  await prepareSchemaAtStart({
    databaseUrl: config.DATABASE_URL,
    schema: SCHEMA,
    dir: config.MIGRATIONS_DIR,
    logger,
    migrateOnStart: config.MIGRATE_ON_START,
    lockTimeoutMs: config.MIGRATION_LOCK_TIMEOUT_MS,
  });
  const app = await NestFactory.create(AppModule.register(config, logger), { bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks();
  await app.listen(config.PORT, '0.0.0.0');
  logger.info({ port: config.PORT }, 'autopilot-delivery started');
}

/** `node main.js` serves; `node main.js migrate` applies the delivery schema's migrations and exits. */
async function main(): Promise<void> {
  const command = parseServiceCommand(SERVICE, process.argv.slice(2));
  if (command === 'migrate') {
    process.exit(
      await runMigrateCommand({
        service: SERVICE,
        schema: SCHEMA,
        settings: () => {
          const config = loadConfig(SERVICE, DeliveryMigrateConfig, process.env);
          return {
            databaseUrl: config.DATABASE_URL,
            dir: config.MIGRATIONS_DIR,
            lockTimeoutMs: config.MIGRATION_LOCK_TIMEOUT_MS,
            logLevel: config.LOG_LEVEL,
          };
        },
      }),
    );
  }
  await bootstrap();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  // A start that fails exits 1 (a wrong command line 64): the supervisor restarts it.
  process.exit(error instanceof UsageError ? MIGRATE_EXIT_CODES.usage : 1);
});
