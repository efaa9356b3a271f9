import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';

export const CORRELATION_HEADER = 'x-correlation-id';

/**
 * nestjs-pino on the service's one logger (createLogger: its level, redaction, format and service name), with
 * a correlation id per request (taken from the caller when given).
 */
@Module({})
export class LoggingModule {
  static forRoot(options: { logger: Logger }): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: options.logger,
            genReqId: (req: IncomingMessage) => {
              const given = req.headers[CORRELATION_HEADER];
              return typeof given === 'string' && given.length <= 200 ? given : randomUUID();
            },
            customProps: (req: IncomingMessage) => ({ correlationId: (req as IncomingMessage & { id?: string }).id }),
            autoLogging: { ignore: (req: IncomingMessage) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
            serializers: {
              req: (req: { id?: string; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: req.url }),
            },
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
