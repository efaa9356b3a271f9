import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ControlPlaneConfig } from '../config';
import { CONSOLE_CONFIG, ConsoleController, type ConsoleSettings } from './console.controller';
import { consoleStaticMiddleware } from './console-static';

type ConsoleOptions = ConsoleSettings & Pick<ControlPlaneConfig, 'CONSOLE_DIR'>;

/** The web console: its static files at `/` and its sign-in routes. One import in AppModule. */
@Module({})
export class ConsoleModule implements OnModuleInit {
  constructor(
    @Inject(CONSOLE_CONFIG) private readonly options: ConsoleOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  static register(config: ConsoleOptions): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsoleController],
      providers: [{ provide: CONSOLE_CONFIG, useValue: config }],
    };
  }

  /**
   * Nest calls this after it registered the API's routes and before its not-found handler: the console's files
   * answer only what no route took, and the API's own 404s stay JSON.
   */
  onModuleInit(): void {
    // The browser talks to the issuer itself (discovery, token endpoint) during authorization code + PKCE.
    const issuer = this.options.AUTH_ISSUER ? [new URL(this.options.AUTH_ISSUER).origin] : [];
    this.adapterHost.httpAdapter.use(consoleStaticMiddleware(this.options.CONSOLE_DIR, issuer));
  }
}
