import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { AppErrorFilter } from './http/app-error.filter';
import { correlationIdMiddleware } from './http/correlation-id.middleware';
import { useRequestBodyParsers } from './http/request-body';

/** What main.ts and the API tests both apply to the Nest app, so tests exercise the served configuration. */
export function configureApp(app: INestApplication): void {
  app.use(correlationIdMiddleware);
  useRequestBodyParsers(app);
  app.useLogger(app.get(NestPinoLogger));
  app.useGlobalFilters(new AppErrorFilter());
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Connection management')
      .setDescription('Control plane of the Customer Insights -> Autopilot segment export')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
