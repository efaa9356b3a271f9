import type { AutopilotContact, FieldMapping } from '@export/contracts';
import { z } from 'zod';
import { convertValue } from './convert-value';

export type MapResult =
  | { ok: true; email: string; contact: AutopilotContact }
  | { ok: false; reason: string };

const EMAIL = z.regexes.email;
const MAX_EMAIL_LENGTH = 254;
const MAX_REASON_LENGTH = 500;
/** How much of a bad e-mail a reason may show (sanitised): enough to find the row, too little to leak a record. */
const MAX_EMAIL_EXCERPT = 32;

/** The Autopilot key of a custom field: `<type>--<Field Name>` with every space replaced by `--`. */
export function customFieldKey(field: string, type: string): string {
  return `${type}--${field.trim().replace(/ /g, '--')}`;
}

/**
 * Maps one profile row to an Autopilot contact, or says why it cannot: the e-mail is required and must
 * look like one (it is trimmed and lower-cased, the de-duplication key downstream); names are trimmed and
 * left out when empty; custom fields are converted to their type and left out when empty. Every problem
 * of the row is named in the reason, with the attribute it came from. A reason never quotes a value of the
 * row, except a short excerpt of a bad e-mail with anything but printable ASCII replaced by `?`.
 */
export function mapProfile(
  values: Readonly<Record<string, string | null>>,
  mapping: FieldMapping,
): MapResult {
  const problems: string[] = [];
  const email = text(values, mapping.email).toLowerCase();
  if (email === '') problems.push(`missing e-mail (attribute ${mapping.email})`);
  else if (email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) {
    problems.push(`invalid e-mail ${emailExcerpt(email)} (attribute ${mapping.email})`);
  }

  const contact: AutopilotContact = { Email: email };
  const firstName = mapping.firstName ? text(values, mapping.firstName) : '';
  if (firstName) contact.FirstName = firstName;
  const lastName = mapping.lastName ? text(values, mapping.lastName) : '';
  if (lastName) contact.LastName = lastName;

  const custom: NonNullable<AutopilotContact['custom']> = {};
  for (const { attribute, field, type } of mapping.custom ?? []) {
    const raw = text(values, attribute);
    if (raw === '') continue;
    const converted = convertValue(raw, type);
    if (converted.ok) custom[customFieldKey(field, type)] = converted.value;
    // Never the value: a reason names the attribute, not the content of the snapshot.
    else problems.push(`invalid ${type} (attribute ${attribute}): ${converted.problem}`);
  }
  if (Object.keys(custom).length > 0) contact.custom = custom;

  if (problems.length > 0) return { ok: false, reason: truncate(problems.join('; '), MAX_REASON_LENGTH) };
  return { ok: true, email, contact };
}

function text(values: Readonly<Record<string, string | null>>, attribute: string): string {
  return Object.hasOwn(values, attribute) ? (values[attribute] ?? '').trim() : '';
}

function emailExcerpt(value: string): string {
  return JSON.stringify(truncate(value.replace(/[^\x20-\x7e]/g, '?'), MAX_EMAIL_EXCERPT));
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
