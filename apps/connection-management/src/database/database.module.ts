import { Global, Inject, Module, OnApplicationShutdown, type DynamicModule } from '@nestjs/common';
import { isDatabaseReady } from '@export/database';
import { Readiness } from '@export/observability';
import { Pool } from 'pg';
import { createPool } from './database';

export const PG_POOL = Symbol('PG_POOL');

@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    readiness: Readiness,
  ) {
    readiness.register('database', () => isDatabaseReady(pool));
  }

  static forRoot(databaseUrl: string): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: PG_POOL, useFactory: () => createPool(databaseUrl) }],
      exports: [PG_POOL],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
