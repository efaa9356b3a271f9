import { CliError } from './api-client';

export interface ExportFlags {
  file?: string;
  name?: string;
  connection?: string;
  segments?: string[];
  email?: string;
  firstName?: string;
  lastName?: string;
  custom?: string[];
  limitPolicy?: string;
  profileLimit?: string;
  listName?: string[];
  syncMode?: string;
  massRemovalPercent?: string;
}

const CUSTOM_TYPES = ['string', 'integer', 'float', 'date', 'boolean'];

/**
 * The body of POST /v1/exports from an export.json file and/or flags (flags win). Only the shape is
 * handled here; the API validates values and names the field at fault.
 */
export function exportBody(flags: ExportFlags, readFile: (path: string) => string): Record<string, unknown> {
  let body: Record<string, unknown> = {};
  if (flags.file) {
    try {
      body = JSON.parse(readFile(flags.file)) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`cannot read ${flags.file}: ${(error as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new CliError(`${flags.file} must hold a JSON object`);
  }
  const mapping = { ...((body['mapping'] as Record<string, unknown> | undefined) ?? {}) };
  if (flags.email) mapping['email'] = flags.email;
  if (flags.firstName) mapping['firstName'] = flags.firstName;
  if (flags.lastName) mapping['lastName'] = flags.lastName;
  if (flags.custom?.length) mapping['custom'] = flags.custom.map(parseCustom);
  const listNames = { ...((body['listNames'] as Record<string, string> | undefined) ?? {}) };
  for (const entry of flags.listName ?? []) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new CliError(`--list-name must be <segmentId>=<list name>, got "${entry}"`);
    listNames[entry.slice(0, at)] = entry.slice(at + 1);
  }
  const result: Record<string, unknown> = { ...body, mapping };
  if (Object.keys(listNames).length) result['listNames'] = listNames;
  if (flags.name) result['name'] = flags.name;
  if (flags.connection) result['connectionId'] = flags.connection;
  if (flags.segments?.length) result['segmentIds'] = flags.segments;
  if (flags.limitPolicy) result['limitPolicy'] = flags.limitPolicy;
  if (flags.profileLimit !== undefined) {
    const n = Number(flags.profileLimit);
    if (!Number.isInteger(n))
      throw new CliError(`--profile-limit must be an integer, got "${flags.profileLimit}"`);
    result['profileLimit'] = n;
  }
  if (flags.syncMode) result['syncMode'] = flags.syncMode;
  if (flags.massRemovalPercent !== undefined) {
    const n = Number(flags.massRemovalPercent);
    if (!Number.isInteger(n))
      throw new CliError(`--mass-removal-percent must be an integer, got "${flags.massRemovalPercent}"`);
    result['massRemovalPercent'] = n;
  }
  if (!result['name'] || !result['connectionId'] || !result['segmentIds'] || !mapping['email']) {
    throw new CliError(
      'an export needs --name, --connection, --segments and --email (or a --file that has them)',
    );
  }
  return result;
}

/** `Tier:Loyalty Tier:string` -> {attribute, field, type}. */
function parseCustom(spec: string): { attribute: string; field: string; type: string } {
  const parts = spec.split(':');
  const type = parts.length >= 3 ? parts[parts.length - 1] : 'string';
  const [attribute, field] =
    parts.length >= 3 ? [parts[0], parts.slice(1, -1).join(':')] : [parts[0], parts[1]];
  if (!attribute || !field || !CUSTOM_TYPES.includes(type)) {
    throw new CliError(`--custom must be <attribute>:<field>[:${CUSTOM_TYPES.join('|')}], got "${spec}"`);
  }
  return { attribute, field, type };
}
