import { randomUUID } from 'node:crypto';
import { ApiError } from './api-error';
import {
  ContactInput,
  CustomFieldType,
  SPECIAL_CONTACT_KEYS,
  STANDARD_CONTACT_FIELDS,
  customFieldName,
  customFieldType,
} from './contact-schema';
import { LIST_PAGE_SIZE, ListRecord } from './list-record';

export { LIST_PAGE_SIZE } from './list-record';
import type {
  StoredContact,
  CustomFieldDefinition,
  DuplicateListTitle,
  UpsertContext,
  BulkUpsertOptions,
  BulkUpsertResult,
  ListPage,
  StoreAnomalies,
} from './store-types';

export type * from './store-types';

class AccountData {
  readonly contactsById = new Map<string, StoredContact>();
  readonly contactsByEmail = new Map<string, StoredContact>();
  readonly lists = new Map<string, ListRecord>();
  /** by field name: a name has one type */
  readonly customFields = new Map<string, CustomFieldDefinition>();
}

/**
 * In-memory Autopilot data, one partition per account. Every write validates the whole request first
 * and mutates only when all of it is acceptable, so a rejected request never stores anything.
 */
export class ContactStore {
  private accounts = new Map<string, AccountData>();
  private anomalies = emptyAnomalies();
  private duplicateTitles = new Map<string, DuplicateListTitle>();

  constructor(private readonly newId: () => string = () => randomUUID().toUpperCase()) {}

  reset(): void {
    this.accounts = new Map();
    this.anomalies = emptyAnomalies();
    this.duplicateTitles = new Map();
  }

  /** Upserts one contact (merged by lower-cased Email when it has one) and returns its id. */
  upsertContact(account: string, contact: ContactInput, context: UpsertContext, options: BulkUpsertOptions = {}): string {
    const data = this.account(account);
    const emailKey = contact.Email !== undefined ? contact.Email.toLowerCase() : null;
    this.validate(data, [contact], [emailKey], options, 'contact');
    return this.apply(data, account, contact, emailKey, context).contactId;
  }

  /** Upserts up to 100 contacts atomically: one bad contact rejects all of them. */
  upsertContacts(
    account: string,
    contacts: ContactInput[],
    context: UpsertContext,
    options: BulkUpsertOptions = {},
  ): BulkUpsertResult {
    const data = this.account(account);
    // Lower-cased once: validation, the merge and the answer all use it.
    const emails = contacts.map((contact) => (contact.Email as string).toLowerCase());
    this.validate(data, contacts, emails, options, 'contacts');
    const result: BulkUpsertResult = { contact_ids: [], email_contact_map: new Map() };
    const seen = new Set<string>();
    for (let index = 0; index < contacts.length; index++) {
      const email = emails[index];
      if (seen.has(email)) this.anomalies.duplicateEmailsInBulk++;
      seen.add(email);
      if (options.isDropped?.(email)) continue;
      const stored = this.apply(data, account, contacts[index], email, context);
      result.contact_ids.push(stored.contactId);
      result.email_contact_map.set(email, stored.contactId);
    }
    return result;
  }

  findContact(account: string, contactIdOrEmail: string): StoredContact | undefined {
    const data = this.accounts.get(account);
    if (!data) return undefined;
    return contactIdOrEmail.startsWith('person_')
      ? data.contactsById.get(contactIdOrEmail)
      : data.contactsByEmail.get(contactIdOrEmail.toLowerCase());
  }

  unsubscribe(account: string, contactIdOrEmail: string, now: number): StoredContact {
    const contact = this.requireContact(account, contactIdOrEmail);
    contact.unsubscribed = true;
    contact.updatedAt = now;
    return contact;
  }

  lists(account: string): Array<{ list_id: string; title: string }> {
    const data = this.accounts.get(account);
    if (!data) return [];
    return [...data.lists.values()].map((list) => ({ list_id: list.listId, title: list.title }));
  }

  /**
   * Creates a list. A title that already exists is counted as an anomaly and then either answered
   * with 409 (`conflict`) or given a second list with the same title (`create`).
   */
  createList(account: string, title: unknown, mode: 'create' | 'conflict', now: number): string {
    if (typeof title !== 'string' || title.trim() === '') {
      throw new ApiError('bad-request', 'A list "name" is required.');
    }
    const data = this.account(account);
    const exists = [...data.lists.values()].some((list) => list.title === title);
    if (exists) {
      const id = `${account}\u0000${title}`;
      const entry = this.duplicateTitles.get(id) ?? { account, title, attempts: 0 };
      entry.attempts++;
      this.duplicateTitles.set(id, entry);
      if (mode === 'conflict') throw new ApiError('conflict', `A list named "${title}" already exists.`);
    }
    const list = new ListRecord(`contactlist_${this.newId()}`, title, now);
    data.lists.set(list.listId, list);
    return list.listId;
  }

  /** @returns false when the contact already was a member */
  addToList(account: string, listId: string, contactIdOrEmail: string, now: number): boolean {
    const list = this.requireList(account, listId);
    const contact = this.requireContact(account, contactIdOrEmail);
    if (!list.add(contact.contactId)) return false;
    contact.lists.add(listId);
    contact.updatedAt = now;
    return true;
  }

  /** @returns false when the contact was not a member */
  removeFromList(account: string, listId: string, contactIdOrEmail: string, now: number): boolean {
    const list = this.requireList(account, listId);
    const contact = this.requireContact(account, contactIdOrEmail);
    if (!list.remove(contact.contactId)) return false;
    contact.lists.delete(listId);
    contact.updatedAt = now;
    return true;
  }

  /** One page of members; `bookmark` is present only when more members follow. */
  listPage(account: string, listId: string, bookmark?: string): ListPage {
    const list = this.requireList(account, listId);
    const data = this.account(account);
    let afterSeq = 0;
    if (bookmark !== undefined) {
      const parsed = /^bm([0-9a-z]+)$/.exec(bookmark);
      if (!parsed) throw new ApiError('bad-request', `Invalid bookmark "${bookmark}".`);
      afterSeq = parseInt(parsed[1], 36);
    }
    const page = list.page(afterSeq, LIST_PAGE_SIZE);
    return {
      contacts: page.ids.map((id) => data.contactsById.get(id) as StoredContact),
      total: list.members.size,
      ...(page.more ? { bookmark: `bm${page.lastSeq.toString(36)}` } : {}),
    };
  }

  customFields(account: string): CustomFieldDefinition[] {
    return [...(this.accounts.get(account)?.customFields.values() ?? [])];
  }

  // ---- inspection (the /__sim API and in-process tests) ----

  allContacts(account?: string): StoredContact[] {
    const result: StoredContact[] = [];
    for (const [name, data] of this.accounts) {
      if (account === undefined || account === name) result.push(...data.contactsById.values());
    }
    return result;
  }

  contactsByEmail(email: string, account?: string): StoredContact[] {
    const key = email.toLowerCase();
    const result: StoredContact[] = [];
    for (const [name, data] of this.accounts) {
      const contact = data.contactsByEmail.get(key);
      if (contact && (account === undefined || account === name)) result.push(contact);
    }
    return result;
  }

  contactCount(): { total: number; byAccount: Record<string, number> } {
    const byAccount: Record<string, number> = {};
    let total = 0;
    for (const [name, data] of this.accounts) {
      byAccount[name] = data.contactsById.size;
      total += data.contactsById.size;
    }
    return { total, byAccount };
  }

  listSummaries(): Array<{ account: string; list_id: string; title: string; members: number }> {
    const result: Array<{ account: string; list_id: string; title: string; members: number }> = [];
    for (const [account, data] of this.accounts) {
      for (const list of data.lists.values()) {
        result.push({ account, list_id: list.listId, title: list.title, members: list.members.size });
      }
    }
    return result;
  }

  /** The list (in any account) with its members in join order, or undefined. */
  listMembers(listId: string): { account: string; list_id: string; title: string; members: StoredContact[] } | undefined {
    for (const [account, data] of this.accounts) {
      const list = data.lists.get(listId);
      if (list) {
        const members = [...list.members.keys()].map((id) => data.contactsById.get(id) as StoredContact);
        return { account, list_id: list.listId, title: list.title, members };
      }
    }
    return undefined;
  }

  anomalyReport(): StoreAnomalies {
    return {
      ...this.anomalies,
      resubscribeViolations: [...this.anomalies.resubscribeViolations],
      duplicateListTitles: [...this.duplicateTitles.values()].map((entry) => ({ ...entry })),
      unknownFields: { ...this.anomalies.unknownFields },
    };
  }

  // ---- internals ----

  private account(account: string): AccountData {
    let data = this.accounts.get(account);
    if (!data) {
      data = new AccountData();
      this.accounts.set(account, data);
    }
    return data;
  }

  private requireList(account: string, listId: string): ListRecord {
    const list = this.accounts.get(account)?.lists.get(listId);
    if (!list) throw new ApiError('not-found', `List ${listId} could not be found.`);
    return list;
  }

  private requireContact(account: string, contactIdOrEmail: string): StoredContact {
    const contact = this.findContact(account, contactIdOrEmail);
    if (!contact) throw new ApiError('not-found', `Contact ${contactIdOrEmail} could not be found.`);
    return contact;
  }

  /** Everything that depends on stored state: list ids, fault patterns, custom field types. */
  private validate(
    data: AccountData,
    contacts: ContactInput[],
    emails: Array<string | null>,
    options: BulkUpsertOptions,
    root: string,
  ): void {
    const typesInRequest = new Map<string, CustomFieldType>();
    contacts.forEach((contact, index) => {
      const where = root === 'contact' ? 'contact' : `${root}[${index}]`;
      const email = emails[index];
      if (email !== null && options.isRejected?.(email)) {
        throw new ApiError('bad-request', `${where}: the contact ${email} was rejected.`);
      }
      const listId = contact._autopilot_list;
      // Cautious reading: Autopilot's answer to an unknown list id is undocumented, so reject it.
      if (listId !== undefined && !data.lists.has(listId)) {
        throw new ApiError('bad-request', `${where}._autopilot_list: list ${listId} does not exist.`);
      }
      if (contact.custom === undefined) return;
      for (const key of Object.keys(contact.custom)) {
        const name = customFieldName(key);
        const type = customFieldType(key);
        const known = data.customFields.get(name)?.fieldType ?? typesInRequest.get(name);
        if (known !== undefined && known !== type) {
          throw new ApiError(
            'bad-request',
            `${where}.custom["${key}"]: the custom field "${name}" is of type ${known}, not ${type}.`,
          );
        }
        typesInRequest.set(name, type);
      }
    });
  }

  private apply(
    data: AccountData,
    account: string,
    contact: ContactInput,
    emailKey: string | null,
    context: UpsertContext,
  ): StoredContact {
    let stored = emailKey !== null ? data.contactsByEmail.get(emailKey) : undefined;
    if (!stored) {
      stored = {
        contactId: `person_${this.newId()}`,
        account,
        emailKey,
        fields: {},
        custom: {},
        lists: new Set(),
        unsubscribed: false,
        createdAt: context.now,
        updatedAt: context.now,
        upserts: 0,
      };
      data.contactsById.set(stored.contactId, stored);
      if (emailKey !== null) data.contactsByEmail.set(emailKey, stored);
      else this.anomalies.contactsWithoutEmail++;
    }
    if (contact.unsubscribed === false && stored.unsubscribed) {
      this.anomalies.resubscribeViolations.push({
        account,
        apiKey: context.apiKey,
        email: emailKey,
        contactId: stored.contactId,
        at: context.now,
      });
    }
    for (const key in contact) {
      if (SPECIAL_CONTACT_KEYS.has(key)) continue;
      if (!STANDARD_CONTACT_FIELDS.has(key)) {
        this.anomalies.unknownFields[key] = (this.anomalies.unknownFields[key] ?? 0) + 1;
      }
      stored.fields[key] = contact[key];
    }
    if (contact.custom) {
      for (const key in contact.custom) {
        const value = contact.custom[key];
        if (value === null) delete stored.custom[key];
        else stored.custom[key] = value;
        const name = customFieldName(key);
        if (!data.customFields.has(name)) data.customFields.set(name, { name, fieldType: customFieldType(key), key });
      }
    }
    if (contact.unsubscribed !== undefined) stored.unsubscribed = contact.unsubscribed;
    if (contact._autopilot_list !== undefined) {
      const list = data.lists.get(contact._autopilot_list) as ListRecord;
      if (list.add(stored.contactId)) stored.lists.add(list.listId);
    }
    stored.updatedAt = context.now;
    stored.upserts++;
    return stored;
  }
}

/**
 * `{"contact_ids": [...], "email_contact_map": {...}}` exactly as JSON.stringify writes the object form (an
 * e-mail is never an integer-like key, so the map's order is the object's order too).
 */
export function bulkAnswerJson(result: BulkUpsertResult): string {
  let map = '';
  for (const [email, contactId] of result.email_contact_map) {
    map += `${map === '' ? '' : ','}${JSON.stringify(email)}:${JSON.stringify(contactId)}`;
  }
  return `{"contact_ids":${JSON.stringify(result.contact_ids)},"email_contact_map":{${map}}}`;
}

function emptyAnomalies(): StoreAnomalies {
  return {
    resubscribeViolations: [],
    duplicateListTitles: [],
    duplicateEmailsInBulk: 0,
    contactsWithoutEmail: 0,
    unknownFields: {},
  };
}
