import { ACTIVE_RUN_STATUSES, type ExportView, type RunView } from '@export/contracts';
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { Connection, Quota, Segment } from './types';

export const keys = {
  connections: ['connections'] as const,
  exports: ['exports'] as const,
  segments: ['segments'] as const,
  runs: (exportId: string) => ['runs', exportId] as const,
  run: (runId: string) => ['run', runId] as const,
  quota: (tenant: string) => ['quota', tenant] as const,
};

export const useConnections = () => useQuery({ queryKey: keys.connections, queryFn: () => api<Connection[]>('GET', '/v1/connections') });
export const useExports = () => useQuery({ queryKey: keys.exports, queryFn: () => api<ExportView[]>('GET', '/v1/exports') });
export const useSegments = () => useQuery({ queryKey: keys.segments, queryFn: () => api<Segment[]>('GET', '/v1/segments') });

const LIVE_MS = 1000;
/** Runs also start without this page (a segment refresh, another admin): the list looks for them this often. */
const IDLE_MS = 5000;

/**
 * Newest first; refreshed every second while a run is queued or running (live progress without reload), and every
 * few seconds otherwise, so a run that a segment refresh started appears without a reload.
 */
export const useRuns = (exportId: string) =>
  useQuery({
    queryKey: keys.runs(exportId),
    queryFn: () => api<RunView[]>('GET', `/v1/exports/${encodeURIComponent(exportId)}/runs`),
    refetchInterval: (q) => (q.state.data?.some((r) => ACTIVE_RUN_STATUSES.includes(r.status)) ? LIVE_MS : IDLE_MS),
  });

export const useRun = (runId: string) =>
  useQuery({
    queryKey: keys.run(runId),
    queryFn: () => api<RunView>('GET', `/v1/runs/${encodeURIComponent(runId)}`),
    refetchInterval: (q) => (q.state.data && !ACTIVE_RUN_STATUSES.includes(q.state.data.status) ? false : LIVE_MS),
  });

export const useQuota = (tenant: string) =>
  useQuery({ queryKey: keys.quota(tenant), queryFn: () => api<Quota>('GET', `/v1/tenants/${encodeURIComponent(tenant)}/quota`) });
