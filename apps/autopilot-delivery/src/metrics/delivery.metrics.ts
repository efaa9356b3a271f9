import { Injectable } from '@nestjs/common';
import { counterMetric as counter, gaugeMetric as gauge, histogramMetric as histogram } from '@export/observability';

/** Prometheus metrics of the delivery service. Labels never carry a key: at most its hash prefix. */
@Injectable()
export class DeliveryMetrics {
  readonly delivered = counter({
    name: 'autopilot_delivery_contacts_delivered_total',
    help: 'Contacts Autopilot acknowledged',
  });
  readonly ledgerContactsDeleted = counter({
    name: 'autopilot_delivery_ledger_contacts_deleted_total',
    help: 'Staged contacts deleted from the ledger (runs ended, or purged after RETENTION_DAYS)',
  });
  readonly failedContacts = counter({
    name: 'autopilot_delivery_contacts_failed_total',
    help: 'Contacts that could not be delivered',
  });
  readonly responses = counter({
    name: 'autopilot_responses_total',
    help: 'Autopilot answers by route and status (status "error" = timeout or connection error)',
    labelNames: ['route', 'status'],
  });
  readonly rateLimited = counter({
    name: 'autopilot_rate_limited_total',
    help: '429 answers from Autopilot',
  });
  readonly retries = counter({
    name: 'autopilot_retries_total',
    help: 'Autopilot calls retried',
    labelNames: ['reason'],
  });
  readonly quotaUsed = gauge({
    name: 'autopilot_delivery_quota_used_profiles',
    help: "Profiles reserved from a tenant's monthly quota",
    labelNames: ['tenant_id', 'month'],
  });
  readonly runDuration = histogram({
    name: 'autopilot_delivery_run_duration_seconds',
    help: 'From the delivery decision to the end of a run',
    labelNames: ['outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 210, 300, 600, 1800, 3600],
  });
  readonly runsInFlight = gauge({
    name: 'autopilot_delivery_runs_in_flight',
    help: 'Runs this instance is delivering',
  });
}
