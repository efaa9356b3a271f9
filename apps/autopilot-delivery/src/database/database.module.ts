import { Global, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createPool, isDatabaseReady, type DatabaseTimeouts } from '@export/database';
import { KafkaConsumers } from '@export/kafka';
import { Readiness } from '@export/observability';
import { Pool } from 'pg';

export { inTransaction } from '@export/database';

export const PG_POOL = Symbol('PG_POOL');

@Injectable()
class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly readiness: Readiness,
    private readonly consumers: KafkaConsumers,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', () => isDatabaseReady(this.pool));
    // Staging needs the ledger: without it, take no new batches (offsets stay put) until it is back.
    this.consumers.pauseWhileDown('database', () => isDatabaseReady(this.pool));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(databaseUrl: string, timeouts?: Partial<DatabaseTimeouts>) {
    // Queries name the `delivery` schema themselves; the pool keeps the default search path.
    const pool = createPool(databaseUrl, { max: 20, timeouts });
    return {
      module: DatabaseModule,
      providers: [{ provide: PG_POOL, useValue: pool }, DatabaseLifecycle],
      exports: [PG_POOL],
    };
  }
}
