import { DynamicModule, Global, Module } from '@nestjs/common';
import { collectDefaultMetrics, register } from 'prom-client';
import { ObservabilityController } from './observability.controller';
import { Readiness } from './readiness';

/** /healthz, /readyz and Prometheus /metrics (process metrics plus whatever the service registers). */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: { service: string }): DynamicModule {
    register.setDefaultLabels({ service: options.service });
    if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [Readiness],
      exports: [Readiness],
    };
  }
}
