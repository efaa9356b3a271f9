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
  readonly callDuration = histogram({
    name: 'autopilot_call_duration_seconds',
    help: 'From a call\'s admission by the pacer to its answer: what each call holds of its key\'s sliding second',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  readonly runDuration = histogram({
    name: 'autopilot_delivery_run_duration_seconds',
    help: 'From the delivery decision to the end of a run',
    labelNames: ['outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 210, 300, 600, 1800, 3600],
  });
  // The backlog gauges are the ledger's, not this instance's: every instance exports the same figures (read
  // them with max(), not sum()).
  readonly backlogContacts = gauge({
    name: 'autopilot_delivery_backlog_contacts',
    help: 'Contacts not yet sent in the ledger, by the state of their run (staging/ready: staged so far)',
    labelNames: ['run_state'],
  });
  readonly backlogRuns = gauge({
    name: 'autopilot_delivery_backlog_runs',
    help: 'Runs not yet ended: staging, waiting for a sender slot (no live lease), leased (being sent)',
    labelNames: ['run_state'],
  });
  readonly backlogConnections = gauge({
    name: 'autopilot_delivery_backlog_connections',
    help: 'Connections (API keys) with a run not yet ended: keys whose rates the backlog can use at once',
  });
  readonly backlogSeconds = gauge({
    name: 'autopilot_delivery_backlog_seconds',
    help: 'Least time the backlog needs at the per-key rate, whatever the replicas: its busiest key\'s contacts / (100 x rps)',
  });
  readonly runSlots = gauge({
    name: 'autopilot_delivery_run_slots',
    help: 'Runs this instance may deliver at once (DELIVERY_MAX_RUNS)',
  });
  readonly runsInFlight = gauge({
    name: 'autopilot_delivery_runs_in_flight',
    help: 'Runs this instance is delivering',
  });
}
