import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { snapshotPath } from '@export/snapshot-location';
import { openConfined } from './confined-file';
import { safeName, partitionLabel } from './safe-text';
import { describeIoError, snapshotError } from './snapshot-error';
import type { SnapshotLimits, SnapshotScope } from './snapshot-record';

/** The parts of a CDM model.json the reader needs; unknown keys (annotations, cdm:imports, ...) are ignored. */
const ModelJson = z.object({
  entities: z.array(
    z.object({
      name: z.string().min(1),
      attributes: z.array(z.object({ name: z.string().trim().min(1) })).optional(),
      partitions: z
        .array(z.object({ name: z.string().optional(), location: z.string().trim().min(1) }))
        .optional(),
    }),
  ),
});

export interface CdmEntity {
  name: string;
  /** Attribute names in model order: the column order of every partition. */
  attributes: string[];
  /**
   * Partitions in model order: each location as model.json writes it (absolute, or relative to
   * `modelPath`); every one is checked when it is opened, like the model itself.
   */
  partitions: { name: string; location: string }[];
  /** The normalised path of model.json, which relative partition locations are resolved against. */
  modelPath: string;
}

/**
 * Reads model.json (a regular file inside the tenant's folder, under the model cap) and resolves one
 * entity: its attribute order (at most `maxColumns`) and its partitions. Errors name model.json and never
 * quote its content beyond an attribute name.
 */
export async function loadCdmEntity(
  scope: SnapshotScope,
  modelLocation: string,
  entityName: string,
  limits: SnapshotLimits,
): Promise<CdmEntity> {
  const model = await openConfined(scope, modelLocation, limits.maxModelBytes);
  const modelFile = model.name;
  let content: string;
  try {
    content = await text(model.stream(64 * 1024));
  } catch (error) {
    throw snapshotError('SNAPSHOT_UNREADABLE', modelFile, `Cannot read model.json ${modelFile}: ${describeIoError(error)}`, error);
  } finally {
    await model.close();
  }
  let json: unknown;
  try {
    json = JSON.parse(content.replace(/^\uFEFF/, ''));
  } catch (error) {
    // The parser's message quotes the text: only the fact goes into ours.
    throw snapshotError('INVALID_SNAPSHOT', modelFile, `Invalid model.json ${modelFile}: not valid JSON`, error);
  }
  const parsed = ModelJson.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw snapshotError('INVALID_SNAPSHOT', modelFile, `Invalid model.json ${modelFile}: ${issues}`.slice(0, 1500));
  }
  const entity = parsed.data.entities.find((e) => e.name === entityName);
  if (!entity) {
    throw snapshotError(
      'ENTITY_NOT_FOUND',
      modelFile,
      `Entity ${safeName(entityName)} not found in ${modelFile} (${parsed.data.entities.length} entities)`,
    );
  }
  const attributes = (entity.attributes ?? []).map((a) => a.name);
  if (attributes.length === 0) {
    throw snapshotError('INVALID_SNAPSHOT', modelFile, `Entity ${safeName(entityName)} in ${modelFile} has no attributes`);
  }
  if (attributes.length > limits.maxColumns) {
    throw snapshotError(
      'SNAPSHOT_TOO_MANY_COLUMNS',
      modelFile,
      `Refused ${modelFile}: entity ${safeName(entityName)} has ${attributes.length} attributes, over the cap of ${limits.maxColumns}`,
    );
  }
  const duplicate = attributes.find((name, i) => attributes.indexOf(name) !== i);
  if (duplicate) {
    throw snapshotError(
      'INVALID_SNAPSHOT',
      modelFile,
      `Entity ${safeName(entityName)} in ${modelFile} lists attribute ${safeName(duplicate)} twice`,
    );
  }
  const modelPath = snapshotPath(modelLocation);
  return {
    name: entity.name,
    attributes,
    partitions: (entity.partitions ?? []).map((p) => ({ name: partitionLabel(p.name || p.location), location: p.location })),
    modelPath: modelPath.ok ? modelPath.path : modelLocation,
  };
}
