import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { toLocalPath } from './location';
import { describeIoError, snapshotError } from './snapshot-error';

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
  /** Partitions in model order, with local paths. */
  partitions: { name: string; file: string }[];
}

/** Reads model.json and resolves one entity: its attribute order and its partition files. */
export async function loadCdmEntity(modelLocation: string, entityName: string): Promise<CdmEntity> {
  const modelFile = toLocalPath(modelLocation);
  const text = await readFile(modelFile, 'utf8').catch((error: unknown) => {
    throw snapshotError(
      'SNAPSHOT_UNREADABLE',
      modelFile,
      `Cannot read model.json ${modelFile}: ${describeIoError(error)}`,
      error,
    );
  });
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw snapshotError(
      'INVALID_SNAPSHOT',
      modelFile,
      `Invalid model.json ${modelFile}: ${(error as Error).message}`,
      error,
    );
  }
  const parsed = ModelJson.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw snapshotError('INVALID_SNAPSHOT', modelFile, `Invalid model.json ${modelFile}: ${issues}`);
  }
  const entity = parsed.data.entities.find((e) => e.name === entityName);
  if (!entity) {
    const known = parsed.data.entities.map((e) => e.name).join(', ') || 'none';
    throw snapshotError(
      'ENTITY_NOT_FOUND',
      modelFile,
      `Entity "${entityName}" not found in ${modelFile} (entities: ${known})`.slice(0, 1500),
    );
  }
  const attributes = (entity.attributes ?? []).map((a) => a.name);
  if (attributes.length === 0) {
    throw snapshotError(
      'INVALID_SNAPSHOT',
      modelFile,
      `Entity "${entityName}" in ${modelFile} has no attributes`,
    );
  }
  const duplicate = attributes.find((name, i) => attributes.indexOf(name) !== i);
  if (duplicate) {
    throw snapshotError(
      'INVALID_SNAPSHOT',
      modelFile,
      `Entity "${entityName}" in ${modelFile} lists attribute "${duplicate}" twice`,
    );
  }
  return {
    name: entity.name,
    attributes,
    partitions: (entity.partitions ?? []).map((p) => ({
      name: p.name || p.location,
      file: toLocalPath(p.location, modelFile),
    })),
  };
}
