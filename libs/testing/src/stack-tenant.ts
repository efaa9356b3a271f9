import { randomUUID } from 'node:crypto';
import { TOPICS, type RunView, type SegmentRefreshedV1 } from '@export/contracts';
import { ApiClient } from './api-client';
import { expectEventually } from './eventually';
import { produceRaw, type TestKafkaConnection } from './kafka';
import { tenantSnapshotDir } from './snapshots';
import { signToken, type Stack } from './stack';

const TERMINAL = new Set<string>(['succeeded', 'failed', 'skipped', 'canceled']);

/** A list the API answers bare or as `{ items }`. */
const itemsOf = <T>(body: T[] | { items: T[] }): T[] => (Array.isArray(body) ? body : body.items);

/** A tenant of a test stack and the steps end-to-end tests take for it through the REST API and Kafka. */
export interface StackTenant {
  tenantId: string;
  /** The REST API as the tenant's admin. */
  api: ApiClient;
  /** `<snapshotRoot>/<tenantId>/`: the only folder its events may name. */
  snapshotDir: string;
  /** Publishes a segment-refreshed event of the tenant (as `kafka` when given); resolves when the broker has it. */
  refresh(event: Pick<SegmentRefreshedV1, 'segment' | 'snapshot'> & Partial<SegmentRefreshedV1>): Promise<SegmentRefreshedV1>;
  /** Resolves once the control plane lists the segment. */
  segmentKnown(segmentId: string): Promise<void>;
  /** Adds a connection with the simulator key `apiKey`; answers it. */
  connect(apiKey: string): Promise<{ id: string; apiKeyLast4: string }>;
  /** Creates an export (body of POST /v1/exports); answers its id. */
  createExport(body: Record<string, unknown>): Promise<string>;
  /** Runs the export now; answers the run's id. */
  run(exportId: string, body?: Record<string, unknown>): Promise<string>;
  /** Resolves with the run once it has ended (succeeded, failed, skipped or canceled). */
  runEnded(runId: string, timeoutMs?: number): Promise<RunView>;
}

/** A fresh tenant (`<prefix>-<8 hex>`) of `stack`, signed in as its admin; `kafka`: how its events are produced. */
export async function createStackTenant(stack: Stack, options: { prefix: string; kafka?: TestKafkaConnection }): Promise<StackTenant> {
  const tenantId = `${options.prefix}-${randomUUID().slice(0, 8)}`;
  const api = new ApiClient(stack.apiUrl, await signToken({ sub: `${options.prefix}-admin`, tid: tenantId, role: 'admin' }));
  return {
    tenantId,
    api,
    snapshotDir: tenantSnapshotDir(tenantId, stack.snapshotRoot),
    refresh: async (fields) => {
      const event: SegmentRefreshedV1 = { eventId: randomUUID(), occurredAt: new Date().toISOString(), tenantId, ...fields };
      const message = { key: `${tenantId}:${event.segment.id}`, value: JSON.stringify(event) };
      await produceRaw(TOPICS.segmentRefreshed.name, [message], options.kafka);
      return event;
    },
    segmentKnown: async (segmentId) => {
      await expectEventually(
        async () => itemsOf(await api.json<{ id: string }[] | { items: { id: string }[] }>('GET', '/v1/segments')).some((s) => s.id === segmentId),
        { timeoutMs: 30_000, message: `segment ${segmentId} seen by the control plane` },
      );
    },
    connect: (apiKey) =>
      api.json<{ id: string; apiKeyLast4: string }>('POST', '/v1/connections', {
        displayName: 'Autopilot (simulator)',
        apiKey,
        privacyConsent: true,
      }),
    createExport: async (body) => (await api.json<{ id: string }>('POST', '/v1/exports', body)).id,
    run: async (exportId, body) => (await api.json<{ runId: string }>('POST', `/v1/exports/${exportId}/runs`, body)).runId,
    runEnded: (runId, timeoutMs = 90_000) =>
      expectEventually(
        async () => {
          const run = await api.json<RunView>('GET', `/v1/runs/${runId}`);
          return TERMINAL.has(run.status) ? run : undefined;
        },
        { timeoutMs, message: `run ${runId} to end` },
      ),
  };
}
