import { jsonByteLength } from './json-bytes';

describe('jsonByteLength', () => {
  it.each<[string, unknown]>([
    ['an empty object', {}],
    ['an empty array', []],
    ['an array of one', ['a']],
    ['an extracted row', { seq: 12, partition: 'part-1.csv', line: 13, values: { EMail: 'a@x.io', FirstName: null, LastName: '' } }],
    ['a mapped contact', { seq: 0, email: 'a@x.io', segmentId: 's', contact: { Email: 'a@x.io', custom: { 'float--Value': 12.5, 'boolean--Ok': false, 'integer--N': -3 } } }],
    ['quotes, backslashes and control characters', { 'k"ey': 'a"b\\c\n\r\t\b\f\u0000\u001f\u007f' }],
    ['non-ASCII text', { name: 'Zoë Ærøskøbing 北京 😀', 'clé': 'é' }],
    ['lone surrogates', ['\ud800', 'a\udc00b']],
    ['line and paragraph separators', '\u2028\u2029'],
    ['numbers of every shape', [0, -0, 1e21, 1.5e-7, -123.456, Number.MAX_SAFE_INTEGER, NaN, Infinity]],
    ['undefined members and items', { a: undefined, b: [undefined, 1], c: 'x' }],
    ['nested arrays and objects', { a: [[], [{}], [{ b: [true, null] }]] }],
  ])('is the UTF-8 length of JSON.stringify for %s', (_, value) => {
    expect(jsonByteLength(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
  });
});
