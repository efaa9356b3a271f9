import type { RunSpec } from '@export/contracts';
import { AppError, failureClass } from '@export/errors';
import type { ControlPlaneAnswer, ControlPlaneClient } from '../control-plane/control-plane.client';
import { RunConfirmationService } from './run-confirmation.service';

const spec: RunSpec = {
  runId: '6b7e4c57-1d3f-4b5e-9a0c-2f1e8d7c6b5a',
  tenantId: 'acme',
  exportId: 'exp-1',
  connectionId: 'conn-1',
  trigger: 'on-demand',
  segments: [
    {
      segmentId: 'seg',
      segmentName: 'Seg',
      listName: 'List',
      snapshot: { format: 'jsonl', location: 'file:///x' },
    },
  ],
  mapping: { email: 'EMail' },
  limitPolicy: 'skip',
  profileLimit: 1000,
  quotaPerMonth: 500,
};

/** A control plane answering `answer` (or throwing it) and counting calls. */
function controlPlane(answer: ControlPlaneAnswer | Error) {
  const calls: { path: string; params: Record<string, string> }[] = [];
  const client = {
    get: async (path: string, params: Record<string, string>) => {
      calls.push({ path, params });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as ControlPlaneClient;
  return { client, calls };
}
const running = (overrides: Partial<RunSpec> = {}, status = 'running'): ControlPlaneAnswer => ({
  status: 200,
  data: {
    runId: spec.runId,
    tenantId: spec.tenantId,
    exportId: spec.exportId,
    status,
    connectionId: 'conn-1',
    spec: { ...spec, ...overrides },
  },
});
const code = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'confirmed',
    (error: unknown) => (error instanceof AppError ? (error.details.code ?? error.kind) : String(error)),
  );

describe('RunConfirmationService', () => {
  it("returns the control plane's spec, asking once per run while cached", async () => {
    const { client, calls } = controlPlane(
      running({ segments: [{ ...spec.segments[0], listName: 'Genuine' }] }),
    );
    const service = new RunConfirmationService(client, 60_000);
    const confirmed = await service.confirmForDelivery(spec);
    expect(confirmed.segments[0].listName).toBe('Genuine');
    await service.confirmForDelivery(spec);
    expect(calls).toEqual([{ path: `/internal/v1/runs/${spec.runId}`, params: { tenantId: 'acme' } }]);
  });

  it.each([
    ['tenantId', { tenantId: 'other' }],
    ['connectionId', { connectionId: 'conn-of-another-tenant' }],
    ['quotaPerMonth', { quotaPerMonth: null }],
    ['profileLimit', { profileLimit: 100_000 }],
    ['limitPolicy', { limitPolicy: 'truncate' as const }],
    ['exportId', { exportId: 'exp-2' }],
  ])('refuses a message that differs in %s (RUN_NOT_CONFIRMED)', async (_, claimed) => {
    const { client } = controlPlane(running());
    const service = new RunConfirmationService(client, 60_000);
    await service.confirmForDelivery(spec); // cached now: the comparison still applies
    expect(await code(service.confirmForDelivery({ ...spec, ...claimed }))).toBe('RUN_NOT_CONFIRMED');
  });

  it.each([
    ['unknown to the tenant', { status: 404, data: {} }],
    ['queued', running({}, 'queued')],
    ['ended', running({}, 'succeeded')],
  ])('refuses a run %s, never retried', async (_, answer) => {
    const service = new RunConfirmationService(controlPlane(answer).client, 60_000);
    const error = await service.confirmForDelivery(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).details.code).toBe('RUN_NOT_CONFIRMED');
    expect(failureClass(error)).toBe('permanent');
  });

  it('treats an unreachable control plane or an odd answer as transient (retried, nothing concluded)', async () => {
    const down = new RunConfirmationService(
      controlPlane(new AppError('upstream-unavailable', 'Control plane unreachable')).client,
      60_000,
    );
    expect(failureClass(await down.confirmForDelivery(spec).catch((e: unknown) => e))).toBe('outage');
    const odd = new RunConfirmationService(
      controlPlane({ status: 200, data: { nonsense: true } }).client,
      60_000,
    );
    expect(failureClass(await odd.confirmForDelivery(spec).catch((e: unknown) => e))).not.toBe('permanent');
  });

  it('accepts a cancel order only for a run the control plane has canceled, in that tenant', async () => {
    const order = {
      type: 'cancel' as const,
      runId: spec.runId,
      tenantId: 'acme',
      at: new Date().toISOString(),
    };
    const confirm = (answer: ControlPlaneAnswer) =>
      code(new RunConfirmationService(controlPlane(answer).client, 60_000).confirmCancel(order));
    expect(await confirm(running({}, 'canceled'))).toBe('confirmed');
    expect(await confirm(running({}, 'running'))).toBe('RUN_NOT_CONFIRMED');
    expect(await confirm({ status: 404, data: {} })).toBe('RUN_NOT_CONFIRMED');
  });
});
