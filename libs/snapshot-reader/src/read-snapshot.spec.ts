import type { Snapshot } from '@export/contracts';
import { AppError } from '@export/errors';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSnapshot, type SnapshotRecord, type SnapshotScope } from './index';

const SAMPLE = join(__dirname, '../fixtures/cdm-sample/model.json');
// The fixtures folder plays SNAPSHOT_ROOT and cdm-sample the tenant's folder; generated cases use a temporary root.
const SAMPLE_SCOPE: SnapshotScope = { root: join(__dirname, '../fixtures'), tenantId: 'cdm-sample' };
let scope: SnapshotScope = SAMPLE_SCOPE;

async function readAll(snapshot: Snapshot, chunkSize?: number): Promise<SnapshotRecord[]> {
  const records: SnapshotRecord[] = [];
  for await (const chunk of readSnapshot(snapshot, scope, { chunkSize })) records.push(...chunk);
  return records;
}

async function failureOf(snapshot: Snapshot): Promise<AppError> {
  const error = await readAll(snapshot).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

describe('readSnapshot: cdm-folder sample', () => {
  it('reads both partitions in model order with start lines, quoting and the BOM handled', async () => {
    const records = await readAll({ format: 'cdm-folder', location: SAMPLE, entity: 'HighValueCustomers' });
    expect(records.every((r) => r.kind === 'row')).toBe(true);
    const rows = records.flatMap((r) => (r.kind === 'row' ? [r] : []));
    expect(rows.map((r) => `${r.partition}:${r.line}:${r.values['CustomerId']}`)).toEqual([
      'part-1:1:C-0001',
      'part-1:2:C-0002',
      'part-1:3:C-0003',
      'part-1:4:C-0004',
      'part-1:5:C-0005',
      'part-1:6:C-0006',
      'part-2:1:C-0007',
      'part-2:2:C-0008',
      'part-2:3:C-0009',
      'part-2:5:C-0010',
    ]);
    expect(rows[0].values).toEqual({
      CustomerId: 'C-0001',
      EMail: 'anna.rossi@example.com',
      FirstName: 'Anna',
      LastName: 'Rossi',
      LoyaltyTier: 'Gold',
      LifetimeValue: '4120.50',
    });
    expect(rows[1].values['EMail']).toBe('  Marco.Bianchi@Example.COM ');
    expect(rows[2].values['EMail']).toBeNull();
    expect(rows[4].values['LastName']).toBe('Müller, Jr.');
    expect(rows[5].values['LastName']).toBe('Da "Big" Silva');
    expect(rows[7].values['FirstName']).toBe('山田');
    expect(rows[8].values['FirstName']).toMatch(/^Two\r?\nLines$/);
  });

  it('gives the same rows whatever the read chunk size (chunk borders inside CRLF and quotes)', async () => {
    const snapshot: Snapshot = {
      format: 'cdm-folder',
      location: pathToFileURL(SAMPLE).href,
      entity: 'HighValueCustomers',
    };
    expect(await readAll(snapshot, 1)).toEqual(await readAll(snapshot));
  });

  it('fails with ENTITY_NOT_FOUND naming model.json for an unknown entity', async () => {
    const error = await failureOf({ format: 'cdm-folder', location: SAMPLE, entity: 'Nope' });
    expect(error.details.code).toBe('ENTITY_NOT_FOUND');
    expect(error.message).toContain(SAMPLE);
    expect(error.message).toContain('"Nope"');
    // Entity names of model.json are its content: the message counts them instead of listing them.
    expect(error.message).toContain('(1 entities)');
    expect(error.retryable).toBe(false);
  });
});

describe('readSnapshot: generated edge cases', () => {
  let root: string;
  let dir: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'snapshot-reader-'));
    dir = join(root, 'acme');
    await mkdir(dir);
    scope = { root, tenantId: 'acme' };
  });
  afterAll(async () => {
    scope = SAMPLE_SCOPE;
    await rm(root, { recursive: true, force: true });
  });

  async function cdmFolder(
    name: string,
    model: unknown,
    partitions: Record<string, string>,
  ): Promise<string> {
    const folder = join(dir, name);
    await mkdir(join(folder, 'data'), { recursive: true });
    for (const [file, content] of Object.entries(partitions)) await writeFile(join(folder, file), content);
    const modelFile = join(folder, 'model.json');
    await writeFile(modelFile, typeof model === 'string' ? model : JSON.stringify(model));
    return modelFile;
  }

  const entity = (partitions: { name: string; location: string }[]) => ({
    name: 'm',
    version: '1.0',
    futureKey: { anything: true },
    entities: [
      { $type: 'ReferenceEntity', name: 'Other' },
      {
        $type: 'LocalEntity',
        name: 'People',
        attributes: [
          { name: 'Id', dataType: 'STRING' },
          { name: 'Mail', dataType: 'String' },
          { name: 'Note', dataType: 'string', extra: 1 },
        ],
        partitions,
      },
    ],
  });

  it('rejects rows with the wrong column count by line and reads on (CRLF, embedded CRLF, doubled quotes)', async () => {
    const content =
      '\uFEFFa,x@y.z,"one, two"\r\n' +
      'b,x@y.z\r\n' +
      'c,x@y.z,"line1\r\nline2"\r\n' +
      '\r\n' +
      'd,x@y.z,"say ""hi"""\r\n' +
      'e,x@y.z,1,extra\r\n' +
      'f,,\r\n';
    const model = await cdmFolder('columns', entity([{ name: 'p1', location: 'data/p1.csv' }]), {
      'data/p1.csv': content,
    });
    const records = await readAll({ format: 'cdm-folder', location: model, entity: 'People' });
    expect(records).toEqual([
      { kind: 'row', partition: 'p1', line: 1, values: { Id: 'a', Mail: 'x@y.z', Note: 'one, two' } },
      { kind: 'rejected', partition: 'p1', line: 2, reason: 'expected 3 columns, found 2' },
      { kind: 'row', partition: 'p1', line: 3, values: { Id: 'c', Mail: 'x@y.z', Note: 'line1\r\nline2' } },
      { kind: 'row', partition: 'p1', line: 6, values: { Id: 'd', Mail: 'x@y.z', Note: 'say "hi"' } },
      { kind: 'rejected', partition: 'p1', line: 7, reason: 'expected 3 columns, found 4' },
      { kind: 'row', partition: 'p1', line: 8, values: { Id: 'f', Mail: null, Note: null } },
    ]);
  });

  it('reads partitions from absolute file:// URIs and plain paths, in model order', async () => {
    const folder = join(dir, 'absolute');
    const model = await cdmFolder(
      'absolute',
      entity([
        { name: 'second-file-first', location: pathToFileURL(join(folder, 'data/b.csv')).href },
        { name: 'plain', location: join(folder, 'data/a.csv') },
      ]),
      { 'data/a.csv': 'a1,m,n\na2,m,n', 'data/b.csv': 'b1,m,n\n' },
    );
    const records = await readAll({
      format: 'cdm-folder',
      location: pathToFileURL(model).href,
      entity: 'People',
    });
    expect(
      records.map((r) => `${r.partition}:${r.line}:${r.kind === 'row' ? r.values['Id'] : r.kind}`),
    ).toEqual(['second-file-first:1:b1', 'plain:1:a1', 'plain:2:a2']);
  });

  it('fails with SNAPSHOT_UNREADABLE naming a missing partition', async () => {
    const model = await cdmFolder(
      'missing-partition',
      entity([
        { name: 'p1', location: 'data/p1.csv' },
        { name: 'p2', location: 'data/gone.csv' },
      ]),
      { 'data/p1.csv': 'a,b,c\n' },
    );
    const error = await failureOf({ format: 'cdm-folder', location: model, entity: 'People' });
    expect(error.details.code).toBe('SNAPSHOT_UNREADABLE');
    expect(error.message).toContain('data/gone.csv');
  });

  it('fails with SNAPSHOT_UNREADABLE naming a missing model.json', async () => {
    const location = join(dir, 'nowhere/model.json');
    const error = await failureOf({ format: 'cdm-folder', location, entity: 'People' });
    expect(error.details.code).toBe('SNAPSHOT_UNREADABLE');
    expect(error.message).toContain(location);
  });

  it.each([
    ['not JSON', '{"entities": ['],
    ['no entities', JSON.stringify({ name: 'm' })],
    ['entity without attributes', JSON.stringify({ entities: [{ name: 'People', partitions: [] }] })],
  ])('fails with INVALID_SNAPSHOT for a model.json that is %s', async (name, model) => {
    const file = await cdmFolder(`bad-${name.replace(/\s/g, '-')}`, model, {});
    const error = await failureOf({ format: 'cdm-folder', location: file, entity: 'People' });
    expect(error.details.code).toBe('INVALID_SNAPSHOT');
    expect(error.message).toContain(file);
  });

  it('fails with INVALID_SNAPSHOT naming the file when quoting is broken', async () => {
    const model = await cdmFolder('broken-quote', entity([{ name: 'p1', location: 'data/p1.csv' }]), {
      'data/p1.csv': 'a,b,c\nd,"e"f,g\n',
    });
    const error = await failureOf({ format: 'cdm-folder', location: model, entity: 'People' });
    expect(error.details.code).toBe('INVALID_SNAPSHOT');
    expect(error.message).toContain('data/p1.csv');
    expect(error.message).not.toContain('"e"f');
  });

  it('reads a csv file with a header row', async () => {
    const file = join(dir, 'people.csv');
    await writeFile(file, '\uFEFFId,Mail\r\n1,a@b.c\r\n2\r\n3,"x,y"\r\n');
    expect(await readAll({ format: 'csv', location: file })).toEqual([
      { kind: 'row', partition: 'people.csv', line: 2, values: { Id: '1', Mail: 'a@b.c' } },
      { kind: 'rejected', partition: 'people.csv', line: 3, reason: 'expected 2 columns, found 1' },
      { kind: 'row', partition: 'people.csv', line: 4, values: { Id: '3', Mail: 'x,y' } },
    ]);
  });

  it('refuses a csv header with a duplicate column', async () => {
    const file = join(dir, 'dup.csv');
    await writeFile(file, 'Id,Id\n1,2\n');
    const error = await failureOf({ format: 'csv', location: file });
    expect(error.details.code).toBe('INVALID_SNAPSHOT');
    expect(error.message).toContain('"Id" appears twice');
  });

  it('reads jsonl, rejecting lines that are not JSON objects', async () => {
    const file = join(dir, 'people.jsonl');
    await writeFile(
      file,
      '\uFEFF{"Id":"1","Mail":"a@b.c","Age":42,"Vip":true,"Gone":null}\r\n{oops\n\n[1]\n{"Id":"4","Tags":["a"]}\n',
    );
    expect(await readAll({ format: 'jsonl', location: pathToFileURL(file).href })).toEqual([
      {
        kind: 'row',
        partition: 'people.jsonl',
        line: 1,
        values: { Id: '1', Mail: 'a@b.c', Age: '42', Vip: 'true', Gone: null },
      },
      {
        kind: 'rejected',
        partition: 'people.jsonl',
        line: 2,
        reason: 'invalid JSON',
      },
      { kind: 'rejected', partition: 'people.jsonl', line: 4, reason: 'expected a JSON object' },
      { kind: 'row', partition: 'people.jsonl', line: 5, values: { Id: '4', Tags: '["a"]' } },
    ]);
  });

  it('rejects a deeply nested jsonl object as a row, naming the key, and reads on', async () => {
    const file = join(dir, 'deep.jsonl');
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const nested = `${'{"a":'.repeat(70)}1${'}'.repeat(70)}`;
    await writeFile(
      file,
      `{"Id":"1","Mail":"a@b.c"}\n{"Id":"2","Deep":${deep}}\n{"Id":"3","Tree":${nested}}\n{"Id":"4","Ok":${'['.repeat(60)}${']'.repeat(60)},"Nul":"x\\u0000y"}\n`,
    );
    const records = await readAll({ format: 'jsonl', location: file });
    expect(records).toEqual([
      { kind: 'row', partition: 'deep.jsonl', line: 1, values: { Id: '1', Mail: 'a@b.c' } },
      { kind: 'rejected', partition: 'deep.jsonl', line: 2, reason: 'value of "Deep" nested deeper than 64 levels' },
      { kind: 'rejected', partition: 'deep.jsonl', line: 3, reason: 'value of "Tree" nested deeper than 64 levels' },
      // A NUL is a value like any other here: mapping rejects the row if the column is mapped.
      { kind: 'row', partition: 'deep.jsonl', line: 4, values: { Id: '4', Ok: `${'['.repeat(60)}${']'.repeat(60)}`, Nul: 'x\u0000y' } },
    ]);
  });

  it('gives partitions printable names: control characters of a model.json partition name become ?, long names are cut', async () => {
    const model = await cdmFolder('odd-names', entity([
      { name: 'p\u0000one\u0007', location: 'data/one.csv' },
      { name: 'x'.repeat(400), location: 'data/two.csv' },
    ]), { 'data/one.csv': '1,a@b.c,n\n', 'data/two.csv': '2,c@d.e,n\n' });
    const records = await readAll({ format: 'cdm-folder', location: model, entity: 'People' });
    expect(records.map((r) => r.partition)).toEqual(['p?one?', `${'x'.repeat(254)}…`]);
  });

  it('fails with SNAPSHOT_UNREADABLE for a missing jsonl file and an unsupported scheme', async () => {
    const missing = await failureOf({ format: 'jsonl', location: join(dir, 'none.jsonl') });
    expect(missing.details.code).toBe('SNAPSHOT_UNREADABLE');
    expect(missing.message).toContain(join(dir, 'none.jsonl'));
    const remote = await failureOf({ format: 'csv', location: 'https://lake.example/x.csv' });
    expect(remote.details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
  });

  it('lets the caller stop early, and reads a large partition to the end', async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `id-${i},m${i}@x.io,${'n'.repeat(50)}`).join('\n');
    const model = await cdmFolder('large', entity([{ name: 'p1', location: 'data/p1.csv' }]), {
      'data/p1.csv': lines,
    });
    const iterator = readSnapshot({ format: 'cdm-folder', location: model, entity: 'People' }, scope)[
      Symbol.asyncIterator
    ]();
    const first = await iterator.next();
    expect(first.value?.[0]).toMatchObject({ kind: 'row', line: 1 });
    await iterator.return?.(undefined);
    let count = 0;
    for await (const chunk of readSnapshot({ format: 'cdm-folder', location: model, entity: 'People' }, scope)) {
      count += chunk.filter((record) => record.kind === 'row').length;
    }
    expect(count).toBe(50_000);
  }, 30_000);

  it('stops when the signal is aborted', async () => {
    const model = await cdmFolder('abort', entity([{ name: 'p1', location: 'data/p1.csv' }]), {
      'data/p1.csv': 'a,b,c\n'.repeat(50),
    });
    const controller = new AbortController();
    const seen: SnapshotRecord[] = [];
    const reading = (async () => {
      for await (const chunk of readSnapshot(
        { format: 'cdm-folder', location: model, entity: 'People' },
        scope,
        { signal: controller.signal, chunkSize: 6 },
      )) {
        seen.push(...chunk);
        controller.abort(new Error('stop'));
      }
    })();
    await expect(reading).rejects.toThrow('stop');
    // One chunk (a read of 6 bytes: one line) and no more.
    expect(seen).toEqual([expect.objectContaining({ kind: 'row', line: 1 })]);
  });
});
