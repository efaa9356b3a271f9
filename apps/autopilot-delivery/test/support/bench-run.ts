/**
 * The run the ledger benches drive through the repositories: one segment, no quota, a fresh export (every
 * contact new), and its batches of mapped contacts (seq = position in the run).
 */
import { randomUUID } from 'node:crypto';
import type { MappedContact, RunSpec } from '@export/contracts';
import type { StagingRepository } from '../../src/staging/staging.repository';

export function benchRunSpec(limitPolicy: RunSpec['limitPolicy']): RunSpec {
  return {
    runId: randomUUID(),
    tenantId: 'bench',
    exportId: `bench-${randomUUID().slice(0, 8)}`,
    connectionId: 'bench',
    trigger: 'on-demand',
    segments: [{ segmentId: 'seg-a', segmentName: 'A', listName: 'A', snapshot: { format: 'csv', location: 'file:///dev/null' } }],
    mapping: { email: 'EMail' },
    limitPolicy,
    profileLimit: 100_000,
    quotaPerMonth: null,
  } as unknown as RunSpec;
}

/** Batch `b` of `rows` contacts. */
export function benchBatch(b: number, rows: number): MappedContact[] {
  return Array.from({ length: rows }, (_, i) => {
    const n = b * rows + i;
    return { seq: n, email: `p${n}@example.com`, segmentId: 'seg-a', contact: { Email: `p${n}@example.com`, FirstName: `First${n}`, LastName: `Last${n}` } };
  });
}

/** Stages the run's `batches` batches of `rows` contacts, `lanes` batches at once (as the consumer's partitions). */
export async function stageBenchRun(staging: StagingRepository, spec: RunSpec, batches: number, rows: number, lanes: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let b = next++; b < batches; b = next++) await staging.stageBatch(spec, b, benchBatch(b, rows), spec.runId);
    }),
  );
}
