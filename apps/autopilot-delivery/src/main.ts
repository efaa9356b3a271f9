import 'reflect-metadata';
import { assertProductionSecrets, loadConfig } from '@export/config';
import { createLogger } from '@export/logging';
import { NestFactory } from '@nestjs/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { DeliveryConfig, SECRET_NAMES } from './config';
import { prepareDatabase } from './database/prepare-database';

async function bootstrap(): Promise<void> {
  const config = loadConfig('autopilot-delivery', DeliveryConfig, process.env);
  assertProductionSecrets('autopilot-delivery', config, SECRET_NAMES);
  const logger = createLogger({ service: 'autopilot-delivery', level: config.LOG_LEVEL });
  await prepareDatabase(config.DATABASE_URL, config.MIGRATIONS_DIR, logger);
  const app = await NestFactory.create(AppModule.register(config, logger), { bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks();
  await app.listen(config.PORT, '0.0.0.0');
  logger.info({ port: config.PORT }, 'autopilot-delivery started');
}

bootstrap().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
