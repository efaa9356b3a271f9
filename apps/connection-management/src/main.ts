import 'reflect-metadata';
import { join } from 'node:path';
import { assertProductionSecrets, loadConfig } from '@export/config';
import { createLogger } from '@export/logging';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { configureApp, listenBoth } from './app.setup';
import { CONTROL_PLANE_SECRETS, ControlPlaneConfig } from './config';
import { migrateDatabase } from './database/migrate';

async function bootstrap(): Promise<void> {
  const config = loadConfig('connection-management', ControlPlaneConfig, process.env);
  assertProductionSecrets('connection-management', config, CONTROL_PLANE_SECRETS);
  const logger = createLogger({ service: 'connection-management', level: config.LOG_LEVEL });
  // The migrations are copied beside main.js by the build (webpack assets).
  await migrateDatabase(config.DATABASE_URL, join(__dirname, 'migrations'), logger);
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

bootstrap().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
