import { KafkaConsumers } from '@export/kafka';
import { Readiness } from '@export/observability';
import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Pool } from 'pg';
import { createPool, isDatabaseReady, type PoolOptions } from './pool';

/** The service's pg Pool (inject it with `@Inject(PG_POOL)`). */
export const PG_POOL = Symbol('PG_POOL');

export interface DatabaseModuleOptions extends PoolOptions {
  /** DATABASE_URL. */
  databaseUrl: string;
}

/**
 * The database's part in the service's life: /readyz answers 503 while it is unreachable, every Kafka
 * handler stops taking messages meanwhile (each one writes to it; offsets stay put, nothing is lost), and the
 * pool closes on shutdown.
 */
@Injectable()
class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly readiness: Readiness,
    private readonly consumers: KafkaConsumers,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', () => isDatabaseReady(this.pool));
    this.consumers.pauseWhileDown('database', () => isDatabaseReady(this.pool));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

/** One PostgreSQL pool per service (see PoolOptions: its schema, size and timeouts). */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot({ databaseUrl, ...pool }: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: PG_POOL, useFactory: () => createPool(databaseUrl, pool) }, DatabaseLifecycle],
      exports: [PG_POOL],
    };
  }
}
