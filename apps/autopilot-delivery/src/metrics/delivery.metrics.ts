import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, metricsRegistry } from '@export/observability';

function once<T>(name: string, create: () => T): T {
  return (metricsRegistry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Prometheus metrics of the delivery service. Labels never carry a key: at most its hash prefix. */
@Injectable()
export class DeliveryMetrics {
  readonly delivered = once(
    'autopilot_delivery_contacts_delivered_total',
    () =>
      new Counter({
        name: 'autopilot_delivery_contacts_delivered_total',
        help: 'Contacts Autopilot acknowledged',
      }),
  );
  readonly failedContacts = once(
    'autopilot_delivery_contacts_failed_total',
    () =>
      new Counter({
        name: 'autopilot_delivery_contacts_failed_total',
        help: 'Contacts that could not be delivered',
      }),
  );
  readonly responses = once(
    'autopilot_responses_total',
    () =>
      new Counter({
        name: 'autopilot_responses_total',
        help: 'Autopilot answers by route and status (status "error" = timeout or connection error)',
        labelNames: ['route', 'status'],
      }),
  );
  readonly rateLimited = once(
    'autopilot_rate_limited_total',
    () => new Counter({ name: 'autopilot_rate_limited_total', help: '429 answers from Autopilot' }),
  );
  readonly retries = once(
    'autopilot_retries_total',
    () =>
      new Counter({
        name: 'autopilot_retries_total',
        help: 'Autopilot calls retried',
        labelNames: ['reason'],
      }),
  );
  readonly quotaUsed = once(
    'autopilot_delivery_quota_used_profiles',
    () =>
      new Gauge({
        name: 'autopilot_delivery_quota_used_profiles',
        help: "Profiles reserved from a tenant's monthly quota",
        labelNames: ['tenant_id', 'month'],
      }),
  );
  readonly runDuration = once(
    'autopilot_delivery_run_duration_seconds',
    () =>
      new Histogram({
        name: 'autopilot_delivery_run_duration_seconds',
        help: 'From the delivery decision to the end of a run',
        labelNames: ['outcome'],
        buckets: [1, 5, 15, 30, 60, 120, 210, 300, 600, 1800, 3600],
      }),
  );
  readonly runsInFlight = once(
    'autopilot_delivery_runs_in_flight',
    () => new Gauge({ name: 'autopilot_delivery_runs_in_flight', help: 'Runs this instance is delivering' }),
  );
}
