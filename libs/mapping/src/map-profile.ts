import { MAX_EMAIL_LENGTH, TEXT_LIMITS, type AutopilotContact, type FieldMapping } from '@export/contracts';
import { z } from 'zod';
import { convertValue } from './convert-value';

export type MapResult =
  | { ok: true; email: string; contact: AutopilotContact }
  | { ok: false; reason: string };

const EMAIL = z.regexes.email;
const MAX_REASON_LENGTH = 500;
/** How much of a bad e-mail a reason may show (sanitised): enough to find the row, too little to leak a record. */
const MAX_EMAIL_EXCERPT = 32;

/**
 * The largest value (UTF-8 bytes) a mapped attribute may hold: 64 KiB. Bytes, not characters, so it also
 * bounds what a contact weighs in a message and a database row; it never exceeds the contract's cap in
 * characters (a character is at least one byte).
 */
export const MAX_VALUE_BYTES: number = Math.min(65_536, TEXT_LIMITS.value);

/** The Autopilot key of a custom field: `<type>--<Field Name>` with every space replaced by `--`. */
export function customFieldKey(field: string, type: string): string {
  return `${type}--${field.trim().replace(/ /g, '--')}`;
}

/**
 * Maps one profile row to an Autopilot contact, or says why it cannot: the e-mail is required and must
 * look like one (it is trimmed and lower-cased, the de-duplication key downstream); names are trimmed and
 * left out when empty; custom fields are converted to their type and left out when empty. A mapped value
 * holding a NUL character (which PostgreSQL cannot store) or over MAX_VALUE_BYTES rejects the row; unmapped
 * attributes are never looked at. Every problem of the row is named in the reason, with the attribute it
 * came from. A reason never quotes a value of the row, except a short excerpt of a bad e-mail with anything
 * but printable ASCII replaced by `?`. A mapped contact always satisfies the contacts-mapped contract.
 */
export function mapProfile(
  values: Readonly<Record<string, string | null>>,
  mapping: FieldMapping,
): MapResult {
  const problems: string[] = [];
  const email = text(values, mapping.email).toLowerCase();
  const emailProblem = email === '' ? undefined : unstorable(email);
  if (email === '') problems.push(`missing e-mail (attribute ${mapping.email})`);
  else if (emailProblem || email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) {
    const why = emailProblem === NUL_PROBLEM ? `: ${emailProblem}` : '';
    problems.push(`invalid e-mail ${emailExcerpt(email)} (attribute ${mapping.email})${why}`);
  }

  // A mapped value PostgreSQL could not store (NUL) or over the cap rejects the row, naming the attribute.
  const checked = (attribute: string): string => {
    const value = text(values, attribute);
    const problem = value === '' ? undefined : unstorable(value);
    if (!problem) return value;
    problems.push(`invalid value (attribute ${attribute}): ${problem}`);
    return '';
  };

  const contact: AutopilotContact = { Email: email };
  const firstName = mapping.firstName ? checked(mapping.firstName) : '';
  if (firstName) contact.FirstName = firstName;
  const lastName = mapping.lastName ? checked(mapping.lastName) : '';
  if (lastName) contact.LastName = lastName;

  const custom: NonNullable<AutopilotContact['custom']> = {};
  for (const { attribute, field, type } of mapping.custom ?? []) {
    const raw = checked(attribute);
    if (raw === '') continue;
    const converted = convertValue(raw, type);
    if (converted.ok) custom[customFieldKey(field, type)] = converted.value;
    // Never the value: a reason names the attribute, not the content of the snapshot.
    else problems.push(`invalid ${type} (attribute ${attribute}): ${converted.problem}`);
  }
  if (Object.keys(custom).length > 0) contact.custom = custom;

  // One attribute may feed several fields: its problem is named once.
  if (problems.length > 0) return { ok: false, reason: truncate([...new Set(problems)].join('; '), MAX_REASON_LENGTH) };
  return { ok: true, email, contact };
}

function text(values: Readonly<Record<string, string | null>>, attribute: string): string {
  return Object.hasOwn(values, attribute) ? (values[attribute] ?? '').trim() : '';
}

const NUL_PROBLEM = 'holds a NUL character';
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a value could not be stored or sent (a NUL, an unpaired surrogate: PostgreSQL refuses both; over the
 * cap), or undefined when it can. Never the value.
 */
function unstorable(value: string): string | undefined {
  if (value.includes('\u0000')) return NUL_PROBLEM;
  // A JSONL `"\ud800"` escape parses to one; CSV text never holds one (invalid UTF-8 decodes to U+FFFD).
  if (UNPAIRED_SURROGATE.test(value)) return 'holds an unpaired surrogate (not valid Unicode)';
  // Cheap first: a string of n characters takes at most 3n bytes of UTF-8.
  if (value.length * 3 > MAX_VALUE_BYTES && Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES)
    return `over ${MAX_VALUE_BYTES} bytes`;
  return undefined;
}

function emailExcerpt(value: string): string {
  return JSON.stringify(truncate(value.replace(/[^\x20-\x7e]/g, '?'), MAX_EMAIL_EXCERPT));
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
