/**
 * How fast a group notices a dead member, and what that costs. A SIGKILLed instance's partitions stay
 * assigned to it until the broker has heard nothing from it for `sessionTimeoutMs`: the restarted process
 * (or a surviving instance) gets them only then, so this is the floor of the recovery time after a crash.
 * Lower means a quicker takeover but more false ones: a healthy member whose event loop stalls (GC pause,
 * starved CPU, a synchronous burst) for longer is evicted, its in-hand message redelivered (stages are
 * idempotent, so that costs time, not correctness). kafkajs heartbeats only between messages; the
 * pacemaker heartbeats during long handlers. The broker refuses session timeouts below
 * group.min.session.timeout.ms (6 s by default).
 */
export interface ConsumerTimings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How long a rebalance waits for the live members to rejoin. */
  rebalanceTimeoutMs: number;
}

export const DEFAULT_CONSUMER_TIMINGS: ConsumerTimings = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 20_000,
};
