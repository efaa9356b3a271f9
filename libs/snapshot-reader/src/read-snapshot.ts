import type { Snapshot } from '@export/contracts';
import { assertNever } from '@export/errors';
import { basename } from 'node:path';
import { loadCdmEntity } from './cdm-model';
import { readCsvPartition } from './csv-partition';
import { readJsonlFile } from './jsonl-file';
import { safeLocation } from './safe-text';
import { snapshotError } from './snapshot-error';
import {
  DEFAULT_SNAPSHOT_LIMITS,
  type ReadSnapshotOptions,
  type SnapshotRecord,
  type SnapshotScope,
} from './snapshot-record';

/**
 * Streams every row of a tenant's snapshot in a stable order (partitions in model order, then line order),
 * with row-level rejections in between, in chunks (a CSV file's records as each read of it gives them, a
 * JSONL file's one by one): one await per chunk, not per row. Nothing is read until the caller pulls, and
 * only as fast as it pulls. Every file (model.json, each partition, the CSV or JSONL file) is opened only if
 * it is a regular file inside `<scope.root>/<scope.tenantId>/` after symbolic links and under the size cap;
 * records over the record cap are rejected and the rest goes on. No reason or error quotes the files' content.
 *
 * Throws AppError('validation') with a SnapshotErrorCode (SNAPSHOT_OUTSIDE_TENANT_ROOT,
 * SNAPSHOT_NOT_REGULAR_FILE, SNAPSHOT_TOO_LARGE, SNAPSHOT_TOO_MANY_COLUMNS, SNAPSHOT_UNREADABLE,
 * ENTITY_NOT_FOUND, INVALID_SNAPSHOT) and the file in the message when the snapshot as a whole is refused.
 */
export function readSnapshot(
  snapshot: Snapshot,
  scope: SnapshotScope,
  options: ReadSnapshotOptions = {},
): AsyncIterable<SnapshotRecord[]> {
  switch (snapshot.format) {
    case 'cdm-folder':
      return readCdmFolder(snapshot, scope, options);
    case 'csv':
      return readCsvPartition(
        scope,
        { location: snapshot.location, partition: basename(safeLocation(snapshot.location)), columns: 'header' },
        options,
      );
    case 'jsonl':
      return oneByOne(readJsonlFile(scope, snapshot.location, options));
    default:
      return assertNever(snapshot.format);
  }
}

async function* readCdmFolder(
  snapshot: Snapshot,
  scope: SnapshotScope,
  options: ReadSnapshotOptions,
): AsyncGenerator<SnapshotRecord[]> {
  const location = safeLocation(snapshot.location);
  if (!snapshot.entity) {
    throw snapshotError('INVALID_SNAPSHOT', location, `No entity named for the CDM folder ${location}`);
  }
  const limits = { ...DEFAULT_SNAPSHOT_LIMITS, ...options.limits };
  const entity = await loadCdmEntity(scope, snapshot.location, snapshot.entity, limits);
  for (const partition of entity.partitions) {
    yield* readCsvPartition(
      scope,
      {
        location: partition.location,
        relativeTo: entity.modelPath,
        partition: partition.name,
        columns: entity.attributes,
      },
      options,
    );
  }
}

async function* oneByOne(records: AsyncIterable<SnapshotRecord>): AsyncGenerator<SnapshotRecord[]> {
  for await (const record of records) yield [record];
}
