import {
  Global,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
  type DynamicModule,
} from '@nestjs/common';
import { Readiness } from '@export/observability';
import Redis from 'ioredis';
import { KeyPacer } from './key-pacer';

const REDIS = Symbol('REDIS');

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly readiness: Readiness,
  ) {}

  onModuleInit(): void {
    this.readiness.register('redis', async () => (await this.redis.ping()) === 'PONG');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The Redis connection and the per-key pacer shared by all delivery instances. */
@Global()
@Module({})
export class PacingModule {
  static forRoot(options: { redisUrl: string; rps: number; marginMs: number; maxInFlightMs: number }): DynamicModule {
    const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
    // Connection errors surface on commands (and in /readyz); the client reconnects by itself.
    redis.on('error', () => undefined);
    return {
      module: PacingModule,
      providers: [
        { provide: REDIS, useValue: redis },
        {
          provide: KeyPacer,
          useValue: new KeyPacer(redis, {
            rps: options.rps,
            marginMs: options.marginMs,
            maxInFlightMs: options.maxInFlightMs,
          }),
        },
        RedisLifecycle,
      ],
      exports: [KeyPacer],
    };
  }
}
