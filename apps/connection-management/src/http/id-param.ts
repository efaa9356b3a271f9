import { AppError } from '@export/errors';
import { Param, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

const Uuid = z.uuid();

/** Ids are UUIDs: anything else cannot name a resource, so it answers 404 like an id of another tenant. */
class UuidOr404Pipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!Uuid.safeParse(value).success)
      throw new AppError('not-found', `No resource with id ${value.slice(0, 100)}`);
    return value;
  }
}

export const IdParam = (name: string) => Param(name, new UuidOr404Pipe());

/** OpenAPI schema of a zod input schema (the request as clients write it, before defaults). */
export function openApiSchema(schema: z.ZodType): SchemaObject {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as SchemaObject;
}
