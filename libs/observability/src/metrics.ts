import { Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * Metrics live in one process-wide registry. These return the metric already registered under the name
 * (a second Nest app in the same process, as tests build) or register it once.
 */
function once<M>(name: string, create: () => M): M {
  return (register.getSingleMetric(name) as M | undefined) ?? create();
}

export function counterMetric<L extends string>(config: ConstructorParameters<typeof Counter<L>>[0]): Counter<L> {
  return once(config.name, () => new Counter<L>(config));
}

export function gaugeMetric<L extends string>(config: ConstructorParameters<typeof Gauge<L>>[0]): Gauge<L> {
  return once(config.name, () => new Gauge<L>(config));
}

export function histogramMetric<L extends string>(config: ConstructorParameters<typeof Histogram<L>>[0]): Histogram<L> {
  return once(config.name, () => new Histogram<L>(config));
}
