import { readBulkAnswer } from './bulk-answer';

/** What JSON.parse makes of an answer, in the same form. */
function viaJsonParse(text: string) {
  const body = JSON.parse(text) as { contact_ids?: string[]; email_contact_map?: Record<string, string> };
  return { contactIds: body.contact_ids ?? [], emailContactMap: new Map(Object.entries(body.email_contact_map ?? {})) };
}

describe('readBulkAnswer', () => {
  it.each([
    ['the usual answer', '{"contact_ids":["person_1","person_2"],"email_contact_map":{"a@x.com":"person_1","B@x.com":"person_2"}}'],
    ['white space everywhere', ' \n{ "email_contact_map" : { "a@x.com" : "person_1" } ,\r\n\t"contact_ids" : [ "person_1" ] } \n'],
    ['escapes and non-ASCII', '{"contact_ids":["p\\"1"],"email_contact_map":{"q\\"u\\\\o\\u0074e@x.com":"p\\"1","é@x.com":"p\\n2","\\ud83d\\ude00@x.com":"p3"}}'],
    ['duplicate e-mails: first place, last value', '{"email_contact_map":{"a@x.com":"p1","b@x.com":"p2","a@x.com":"p3"}}'],
    ['duplicate members: the last wins', '{"contact_ids":["p1"],"contact_ids":["p2"]}'],
    ['members missing', '{}'],
    ['empty collections', '{"contact_ids":[],"email_contact_map":{}}'],
    ['a number-like but not an index key', '{"email_contact_map":{"01":"p1","x@y":"p2"}}'],
  ])('reads %s as JSON.parse would', (_name, text) => {
    expect(readBulkAnswer(text)).toEqual(viaJsonParse(text));
    expect([...(readBulkAnswer(text)?.emailContactMap.keys() ?? [])]).toEqual([...viaJsonParse(text).emailContactMap.keys()]);
  });

  it.each([
    ['not JSON', 'nope'],
    ['empty', ''],
    ['truncated', '{"contact_ids":["person_1"'],
    ['trailing comma', '{"contact_ids":["p1",]}'],
    ['trailing garbage', '{"contact_ids":[]} x'],
    ['a raw control character in a string', '{"contact_ids":["p\n1"]}'],
    ['a bad escape', '{"contact_ids":["p\\x1"]}'],
    ['an unterminated escape', '{"contact_ids":["p\\'],
    ['another member (left to JSON.parse)', '{"contact_ids":[],"extra":1}'],
    ['a non-string id', '{"email_contact_map":{"a@x.com":1}}'],
    ['an array-index key (JSON.parse puts it first)', '{"email_contact_map":{"b@x.com":"p1","7":"p2"}}'],
    ['null', 'null'],
    ['an array', '[]'],
  ])('leaves %s to JSON.parse', (_name, text) => {
    expect(readBulkAnswer(text)).toBeUndefined();
  });
});
