import { counterMetric, gaugeMetric } from '@export/observability';

/** Kafka metrics of every service, registered once per process (default label `service` comes from the registry). */
export const kafkaMetrics = {
  consumerLag: gaugeMetric({
    name: 'kafka_consumer_lag_messages',
    help: 'Messages behind the high watermark, per group/topic/partition, as of the last message handled',
    labelNames: ['group', 'topic', 'partition'],
  }),
  consumed: counterMetric({
    name: 'kafka_messages_consumed_total',
    help: 'Messages whose handling finished (handled or dead-lettered), by group and topic',
    labelNames: ['group', 'topic'],
  }),
  produced: counterMetric({
    name: 'kafka_messages_produced_total',
    help: 'Messages the broker acknowledged, by topic',
    labelNames: ['topic'],
  }),
  deadLetters: counterMetric({
    name: 'kafka_dead_letters_total',
    help: 'Messages sent to the dead-letter topic, by consumer group, source topic and code',
    labelNames: ['group', 'topic', 'code'],
  }),
  handlerRetries: counterMetric({
    name: 'kafka_handler_retries_total',
    help: 'Handler attempts that failed with a retryable error and were retried in place',
    labelNames: ['group', 'topic'],
  }),
  paused: gaugeMetric({
    name: 'kafka_consumer_paused',
    help: '1 while a consumer group is paused because a dependency is down',
    labelNames: ['group'],
  }),
};
