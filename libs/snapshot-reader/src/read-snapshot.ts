import type { Snapshot } from '@export/contracts';
import { assertNever } from '@export/errors';
import { basename } from 'node:path';
import { loadCdmEntity } from './cdm-model';
import { readCsvPartition } from './csv-partition';
import { readJsonlFile } from './jsonl-file';
import { toLocalPath } from './location';
import { snapshotError } from './snapshot-error';
import type { ReadSnapshotOptions, SnapshotRecord } from './snapshot-record';

/**
 * Streams every row of a snapshot in a stable order (partitions in model order, then line order), with
 * row-level rejections in between. Nothing is read until the caller pulls, and only as fast as it pulls.
 * Throws AppError('validation') with code SNAPSHOT_UNREADABLE, ENTITY_NOT_FOUND or INVALID_SNAPSHOT and
 * the file in the message when the snapshot as a whole cannot be read.
 */
export function readSnapshot(
  snapshot: Snapshot,
  options: ReadSnapshotOptions = {},
): AsyncIterable<SnapshotRecord> {
  switch (snapshot.format) {
    case 'cdm-folder':
      return readCdmFolder(snapshot, options);
    case 'csv': {
      const file = toLocalPath(snapshot.location);
      return readCsvPartition({ file, partition: basename(file), columns: 'header' }, options);
    }
    case 'jsonl':
      return readJsonlFile(toLocalPath(snapshot.location), options);
    default:
      return assertNever(snapshot.format);
  }
}

async function* readCdmFolder(
  snapshot: Snapshot,
  options: ReadSnapshotOptions,
): AsyncGenerator<SnapshotRecord> {
  if (!snapshot.entity) {
    throw snapshotError(
      'INVALID_SNAPSHOT',
      snapshot.location,
      `No entity named for the CDM folder ${snapshot.location}`,
    );
  }
  const entity = await loadCdmEntity(snapshot.location, snapshot.entity);
  for (const partition of entity.partitions) {
    yield* readCsvPartition(
      { file: partition.file, partition: partition.name, columns: entity.attributes },
      options,
    );
  }
}
