import 'reflect-metadata';
import { join } from 'node:path';
import { assertProductionSecrets, loadConfig } from '@export/config';
import {
  MIGRATE_EXIT_CODES,
  MigrateCommandConfig,
  parseServiceCommand,
  prepareSchemaAtStart,
  runMigrateCommand,
  UsageError,
} from '@export/database';
import { createLogger } from '@export/logging';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { configureApp, listenBoth } from './app.setup';
import { CONTROL_PLANE_SECRETS, ControlPlaneConfig } from './config';
import { SCHEMA } from './database/database';

const SERVICE = 'connection-management';
// The migrations are copied beside main.js by the build (webpack assets).
const MIGRATIONS_DIR = join(__dirname, 'migrations');

async function bootstrap(): Promise<void> {
  const config = loadConfig(SERVICE, ControlPlaneConfig, process.env);
  assertProductionSecrets(SERVICE, config, CONTROL_PLANE_SECRETS);
  const logger = createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  await prepareSchemaAtStart({
    databaseUrl: config.DATABASE_URL,
    schema: SCHEMA,
    dir: MIGRATIONS_DIR,
    logger,
    migrateOnStart: config.MIGRATE_ON_START,
    lockTimeoutMs: config.MIGRATION_LOCK_TIMEOUT_MS,
  });
  const app = await NestFactory.create(AppModule.register(config, logger), { bufferLogs: true });
  configureApp(app);
  await listenBoth(app, {
    port: config.PORT,
    host: '0.0.0.0',
    internalPort: config.INTERNAL_PORT,
    internalHost: config.INTERNAL_HOST,
  });
  logger.info(
    { port: config.PORT, internalPort: config.INTERNAL_PORT, internalHost: config.INTERNAL_HOST },
    'connection-management started',
  );
}

/** `node main.js` serves; `node main.js migrate` applies the control_plane schema's migrations and exits. */
async function main(): Promise<void> {
  const command = parseServiceCommand(SERVICE, process.argv.slice(2));
  if (command === 'migrate') {
    process.exit(
      await runMigrateCommand({
        service: SERVICE,
        schema: SCHEMA,
        settings: () => {
          const config = loadConfig(SERVICE, MigrateCommandConfig, process.env);
          return {
            databaseUrl: config.DATABASE_URL,
            dir: MIGRATIONS_DIR,
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
