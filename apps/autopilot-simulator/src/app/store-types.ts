import type { CustomFieldType } from './contact-schema';

/** The simulator store's data shapes and reports. */
export interface StoredContact {
  contactId: string;
  account: string;
  /** lower-cased Email, the merge key; null for a contact created without Email */
  emailKey: string | null;
  /** standard (and unknown top-level) fields as last sent */
  fields: Record<string, unknown>;
  /** custom fields by their `type--Name` key */
  custom: Record<string, unknown>;
  lists: Set<string>;
  unsubscribed: boolean;
  createdAt: number;
  updatedAt: number;
  /** how many upserts touched this contact */
  upserts: number;
}

export interface CustomFieldDefinition {
  name: string;
  fieldType: CustomFieldType;
  key: string;
}

export interface ResubscribeViolation {
  account: string;
  apiKey: string;
  email: string | null;
  contactId: string;
  at: number;
}

export interface DuplicateListTitle {
  account: string;
  title: string;
  /** `POST /list` calls that named an existing title */
  attempts: number;
}

export interface UpsertContext {
  apiKey: string;
  now: number;
}

export interface BulkUpsertOptions {
  /** a contact whose Email this accepts makes the whole request fail with 400 */
  isRejected?: (email: string) => boolean;
  /** a contact whose Email this accepts is silently left out (not stored, not in the map) */
  isDropped?: (email: string) => boolean;
}

/** A bulk upsert's answer; `bulkAnswerJson` writes it as Autopilot's JSON body. */
export interface BulkUpsertResult {
  contact_ids: string[];
  /**
   * Lower-cased e-mail -> contact id, in the order the e-mails first came. A Map, not an object: 100 new
   * e-mails as property names per call cost V8 a hidden class each (and a string-table entry).
   */
  email_contact_map: Map<string, string>;
}

export interface ListPage {
  contacts: StoredContact[];
  total: number;
  bookmark?: string;
}

/** Counters the product is judged by; all of them should stay at zero in a correct run. */
export interface StoreAnomalies {
  resubscribeViolations: ResubscribeViolation[];
  duplicateListTitles: DuplicateListTitle[];
  /** emails sent twice (in any letter case) within one bulk request */
  duplicateEmailsInBulk: number;
  /** contacts created by `POST /contact` without Email (never merged) */
  contactsWithoutEmail: number;
  /** top-level contact keys that are not Autopilot standard fields, with how often they were sent */
  unknownFields: Record<string, number>;
}
