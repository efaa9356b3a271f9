import { Global, Inject, Module, OnApplicationShutdown, type DynamicModule } from '@nestjs/common';
import { isDatabaseReady, type DatabaseTimeouts } from '@export/database';
import { KafkaConsumers } from '@export/kafka';
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
    consumers: KafkaConsumers,
  ) {
    readiness.register('database', () => isDatabaseReady(pool));
    // Every handler of the control plane writes to the database: take no new events while it is down.
    consumers.pauseWhileDown('database', () => isDatabaseReady(pool));
  }

  static forRoot(databaseUrl: string, timeouts?: Partial<DatabaseTimeouts>): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: PG_POOL, useFactory: () => createPool(databaseUrl, timeouts) }],
      exports: [PG_POOL],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
