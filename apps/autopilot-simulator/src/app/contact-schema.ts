import { z } from 'zod';
import { ApiError } from './api-error';

/** Bulk upserts accept at most this many contacts; one more makes the whole request a 400. */
export const MAX_CONTACTS_PER_BULK = 100;

/** `"<type>--<Field--Name>"`: the type prefix, then the field name with every space written as `--`. */
export const CUSTOM_FIELD_KEY = /^(string|integer|float|date|boolean)--[^\s]+$/;

export type CustomFieldType = 'string' | 'integer' | 'float' | 'date' | 'boolean';

/** Keys that steer the upsert instead of being stored as contact fields. */
export const SPECIAL_CONTACT_KEYS: ReadonlySet<string> = new Set([
  'custom',
  '_autopilot_list',
  '_autopilot_session_id',
  'unsubscribed',
  'notify',
]);

/** Autopilot's documented standard fields (PascalCase, case-sensitive); others are stored but counted. */
export const STANDARD_CONTACT_FIELDS: ReadonlySet<string> = new Set([
  'Email',
  'FirstName',
  'LastName',
  'Name',
  'Salutation',
  'Title',
  'Company',
  'NumberOfEmployees',
  'Industry',
  'Phone',
  'MobilePhone',
  'Fax',
  'Website',
  'MailingStreet',
  'MailingCity',
  'MailingState',
  'MailingPostalCode',
  'MailingCountry',
  'LeadSource',
  'Status',
  'LinkedIn',
  'Twitter',
  'owner_name',
]);

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

const customFieldsSchema = z.record(
  z.string().regex(CUSTOM_FIELD_KEY, {
    message: 'custom field keys must look like "<string|integer|float|date|boolean>--<Field--Name>"',
  }),
  z.unknown(),
);

const contactSchema = z.looseObject({
  Email: z.email({ message: 'Email is not a valid e-mail address' }).optional(),
  custom: customFieldsSchema.optional(),
  _autopilot_list: z.string().min(1, { message: '_autopilot_list must be a list id' }).optional(),
  unsubscribed: z.boolean({ message: 'unsubscribed must be a boolean' }).optional(),
  notify: z.boolean({ message: 'notify must be a boolean' }).optional(),
});

const bulkContactSchema = contactSchema.extend({
  Email: z.email({ message: 'every contact of a bulk upsert needs a valid Email' }),
});

export type ContactInput = z.output<typeof contactSchema>;

/** Parses `{"contact": {...}}`; Email is optional for a single upsert (such contacts are never merged). */
export function parseSingleContactBody(body: unknown): ContactInput {
  const envelope = asRecord(body, 'The body must be a JSON object with a "contact" object.');
  const result = contactSchema.safeParse(envelope['contact']);
  if (!result.success) throw new ApiError('bad-request', describe(result.error, 'contact'));
  return checkCustomValues(result.data, 'contact');
}

/** Parses `{"contacts": [...]}` with 1..100 contacts, every one with a valid Email; all or nothing. */
export function parseBulkContactsBody(body: unknown): ContactInput[] {
  const envelope = asRecord(body, 'The body must be a JSON object with a "contacts" array.');
  const contacts = envelope['contacts'];
  if (!Array.isArray(contacts)) throw new ApiError('bad-request', '"contacts" must be an array.');
  if (contacts.length === 0) throw new ApiError('bad-request', '"contacts" must not be empty.');
  if (contacts.length > MAX_CONTACTS_PER_BULK) {
    throw new ApiError(
      'bad-request',
      `A maximum of ${MAX_CONTACTS_PER_BULK} contacts can be sent per request (got ${contacts.length}).`,
    );
  }
  const result = z.array(bulkContactSchema).safeParse(contacts);
  if (!result.success) throw new ApiError('bad-request', describe(result.error, 'contacts'));
  return result.data.map((contact, index) => checkCustomValues(contact, `contacts[${index}]`));
}

export function customFieldType(key: string): CustomFieldType {
  return key.slice(0, key.indexOf('--')) as CustomFieldType;
}

// Field keys repeat on every contact of every batch; remembering their names keeps bulk upserts cheap.
const fieldNames = new Map<string, string>();

/** `"string--Loyalty--Tier"` -> `"Loyalty Tier"`. */
export function customFieldName(key: string): string {
  let name = fieldNames.get(key);
  if (name === undefined) {
    name = key.slice(key.indexOf('--') + 2).split('--').join(' ');
    if (fieldNames.size < 10_000) fieldNames.set(key, name);
  }
  return name;
}

/** Values must fit the declared type (null clears a field); Autopilot's coercion is undocumented. */
function checkCustomValues(contact: ContactInput, where: string): ContactInput {
  if (!contact.custom) return contact;
  for (const [key, value] of Object.entries(contact.custom)) {
    if (value === null) continue;
    const problem = typeProblem(customFieldType(key), value);
    if (problem) throw new ApiError('bad-request', `${where}.custom["${key}"]: ${problem}, got ${JSON.stringify(value)}`);
  }
  return contact;
}

function typeProblem(type: CustomFieldType, value: unknown): string | null {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? null : 'expected a string';
    case 'integer':
      return Number.isInteger(value) ? null : 'expected an integer';
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'expected a number';
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : 'expected an ISO-8601 date string';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'expected a boolean';
  }
}

function asRecord(body: unknown, message: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('bad-request', message);
  return body as Record<string, unknown>;
}

function describe(error: z.ZodError, root: string): string {
  const issue = error.issues[0];
  const path = root + issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : pathPart(String(part)))).join('');
  // a bad record key carries its reason one level down
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  const extra = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return `${path}: ${message}${extra}`;
}

function pathPart(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
