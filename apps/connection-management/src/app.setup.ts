import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { AddressInfo } from 'node:net';
import { APP_CONFIG } from './app-tokens';
import type { ControlPlaneConfig } from './config';
import { AppErrorFilter } from './http/app-error.filter';
import { correlationIdMiddleware } from './http/correlation-id.middleware';
import { useRequestBodyParsers } from './http/request-body';
import { classifyPath, InternalListener, listenerRoutingMiddleware } from './http/internal-listener';

/** What main.ts and the API tests both apply to the Nest app, so tests exercise the served configuration. */
export function configureApp(app: INestApplication): void {
  const config = app.get<ControlPlaneConfig>(APP_CONFIG);
  // First of all: a path the listener does not serve (e.g. /internal/* on the public port) answers 404.
  app.use(
    listenerRoutingMiddleware({
      metricsOnInternal: config.METRICS_ON_INTERNAL,
      docsOnInternal: config.DOCS_ON_INTERNAL,
    }),
  );
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
  // Served on the public port, the document does not describe routes that port never serves.
  if (!config.DOCS_ON_INTERNAL)
    for (const path of Object.keys(document.paths))
      if (classifyPath(path) === 'internal') delete document.paths[path];
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

/**
 * Starts both listeners: the public one (REST API, console, probes; /metrics and /docs unless moved) and the
 * internal one (/internal/*, probes; /metrics and /docs when moved there). Ports and hosts default to the
 * configuration; tests pass 0 for free ports.
 */
export async function listenBoth(
  app: INestApplication,
  options: { port: number; host: string; internalPort: number; internalHost: string },
): Promise<{ port: number; internalPort: number }> {
  await app.listen(options.port, options.host);
  const publicAddress = app.getHttpServer().address() as AddressInfo;
  const internal = await app.get(InternalListener).listen(app, options.internalPort, options.internalHost);
  return { port: publicAddress.port, internalPort: internal.port };
}
