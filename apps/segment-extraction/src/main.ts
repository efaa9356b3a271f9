import 'reflect-metadata';
import { loadConfig } from '@export/config';
import { createLogger } from '@export/logging';
import { NestFactory } from '@nestjs/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { SegmentExtractionConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadConfig('segment-extraction', SegmentExtractionConfig, process.env);
  const logger = createLogger({ service: 'segment-extraction', level: config.LOG_LEVEL });
  const app = await NestFactory.create(AppModule.register(config, logger), { bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks();
  await app.listen(config.PORT, '0.0.0.0');
  logger.info({ port: config.PORT }, 'segment-extraction started');
}

bootstrap().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
