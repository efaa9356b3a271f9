import type { Snapshot } from '@export/contracts';
import { AppError } from '@export/errors';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSnapshot, type ReadSnapshotOptions, type SnapshotRecord, type SnapshotScope } from './index';

/**
 * Issue 10: a tenant's snapshots stay inside <SNAPSHOT_ROOT>/<tenantId>/. Every case must end in a clear
 * error (or, for one over-long row, a rejection) within seconds, and no reason or error may quote a file.
 */
describe('readSnapshot: snapshots stay inside the tenant folder', () => {
  let root: string;
  let acme: string;
  let other: string;
  const scope = (): SnapshotScope => ({ root, tenantId: 'acme' });
  const SECRET = 'other-tenant-secret@victim.example';

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'snapshot-root-'));
    acme = join(root, 'acme');
    other = join(root, 'other');
    await mkdir(acme);
    await mkdir(other);
    await writeFile(join(other, 'seg.csv'), `Id,EMail\n1,${SECRET}\n`);
    await writeFile(join(other, 'seg.jsonl'), `{"EMail":"${SECRET}"}\n`);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  async function readAll(snapshot: Snapshot, options: ReadSnapshotOptions = {}, as = scope()): Promise<SnapshotRecord[]> {
    const records: SnapshotRecord[] = [];
    for await (const chunk of readSnapshot(snapshot, as, options)) records.push(...chunk);
    return records;
  }

  /** The error the read ends with; also proves nothing was yielded before it and nothing leaked. */
  async function refusal(snapshot: Snapshot, options: ReadSnapshotOptions = {}, as = scope()): Promise<AppError> {
    const seen: SnapshotRecord[] = [];
    const started = Date.now();
    const error = await (async () => {
      for await (const chunk of readSnapshot(snapshot, as, options)) seen.push(...chunk);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
    expect(seen).toEqual([]);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('root:');
    return error;
  }

  it("refuses another tenant's snapshot by absolute path and by file:// URI", async () => {
    for (const location of [join(other, 'seg.csv'), pathToFileURL(join(other, 'seg.csv')).href]) {
      const error = await refusal({ format: 'csv', location });
      expect(error.details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
    }
  });

  it("refuses another tenant's snapshot by ../", async () => {
    const error = await refusal({ format: 'csv', location: `${acme}/../other/seg.csv` });
    expect(error.details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
    const encoded = await refusal({ format: 'jsonl', location: `${pathToFileURL(acme).href}/%2e%2e/other/seg.jsonl` });
    expect(encoded.details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
  });

  it("refuses another tenant's snapshot through a symbolic link in the tenant's own folder", async () => {
    await symlink(join(other, 'seg.csv'), join(acme, 'linked.csv'));
    await mkdir(join(acme, 'dir-link-parent'));
    await symlink(other, join(acme, 'dir-link-parent', 'sub'));
    expect((await refusal({ format: 'csv', location: join(acme, 'linked.csv') })).details.code).toBe(
      'SNAPSHOT_OUTSIDE_TENANT_ROOT',
    );
    // A linked parent folder: O_NOFOLLOW alone would not see it.
    expect(
      (await refusal({ format: 'csv', location: join(acme, 'dir-link-parent', 'sub', 'seg.csv') })).details.code,
    ).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
  });

  it('refuses a link that leads nowhere like one that leads outside (no existence oracle)', async () => {
    await symlink(join(other, 'does-not-exist.csv'), join(acme, 'dangling.csv'));
    await symlink(join(other, 'no-folder'), join(acme, 'dangling-folder'));
    expect((await refusal({ format: 'csv', location: join(acme, 'dangling.csv') })).details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
    expect((await refusal({ format: 'csv', location: join(acme, 'dangling-folder', 'x.csv') })).details.code).toBe(
      'SNAPSHOT_OUTSIDE_TENANT_ROOT',
    );
    expect((await refusal({ format: 'csv', location: join(acme, 'missing.csv') })).details.code).toBe('SNAPSHOT_UNREADABLE');
  });

  it('refuses a tenant folder that is itself a link to another tenant', async () => {
    await symlink(other, join(root, 'mallory'));
    const error = await refusal(
      { format: 'csv', location: join(root, 'mallory', 'seg.csv') },
      {},
      { root, tenantId: 'mallory' },
    );
    expect(error.details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
  });

  it("refuses a model.json whose partition is another tenant's file (absolute, relative ../, linked), before reading any", async () => {
    const folder = join(acme, 'cdm-steal');
    await mkdir(folder);
    await writeFile(join(folder, 'own.csv'), '1,own@acme.example\n');
    await symlink(join(other, 'seg.csv'), join(folder, 'link.csv'));
    for (const stolen of [join(other, 'seg.csv'), '../../other/seg.csv', pathToFileURL(join(other, 'seg.csv')).href, 'link.csv']) {
      const model = {
        entities: [
          {
            name: 'People',
            attributes: [{ name: 'Id' }, { name: 'EMail' }],
            partitions: [
              { name: 'own', location: 'own.csv' },
              { name: 'stolen', location: stolen },
            ],
          },
        ],
      };
      await writeFile(join(folder, 'model.json'), JSON.stringify(model));
      const records: SnapshotRecord[] = [];
      const error = await (async () => {
        for await (const chunk of readSnapshot({ format: 'cdm-folder', location: join(folder, 'model.json'), entity: 'People' }, scope()))
          records.push(...chunk);
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
      expect((error as AppError).message).not.toContain(SECRET);
      // Its own partition came first; nothing of the other tenant's file was yielded.
      expect(JSON.stringify(records)).not.toContain(SECRET);
    }
  });

  it('refuses file:///etc/passwd, and /etc/passwd linked into the folder, without a byte of it in the error', async () => {
    for (const format of ['jsonl', 'csv'] as const) {
      expect((await refusal({ format, location: 'file:///etc/passwd' })).details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
    }
    await symlink('/etc/passwd', join(acme, 'passwd.jsonl'));
    expect((await refusal({ format: 'jsonl', location: join(acme, 'passwd.jsonl') })).details.code).toBe(
      'SNAPSHOT_OUTSIDE_TENANT_ROOT',
    );
  });

  it('refuses a relative location and another scheme', async () => {
    expect((await refusal({ format: 'csv', location: 'acme/seg.csv' })).details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
    expect((await refusal({ format: 'csv', location: 'https://lake.example/acme/x.csv' })).details.code).toBe(
      'SNAPSHOT_OUTSIDE_TENANT_ROOT',
    );
  });

  it('refuses every location of a tenant id with ..', async () => {
    for (const tenantId of ['..', '../other', 'acme/../other']) {
      const error = await refusal({ format: 'csv', location: join(other, 'seg.csv') }, {}, { root, tenantId });
      expect(error.details.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
    }
  });

  it('refuses /dev/zero linked into the tenant folder, at once', async () => {
    await symlink('/dev/zero', join(acme, 'zero.csv'));
    expect((await refusal({ format: 'csv', location: join(acme, 'zero.csv') })).details.code).toBe(
      'SNAPSHOT_OUTSIDE_TENANT_ROOT',
    );
  });

  it('refuses a FIFO in the tenant folder without blocking on it', async () => {
    const fifo = join(acme, 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const error = await refusal({ format: 'jsonl', location: fifo });
    expect(error.details.code).toBe('SNAPSHOT_NOT_REGULAR_FILE');
    expect(error.message).toContain('FIFO');
    const asModel = await refusal({ format: 'cdm-folder', location: fifo, entity: 'E' });
    expect(asModel.details.code).toBe('SNAPSHOT_NOT_REGULAR_FILE');
  });

  it('refuses a directory', async () => {
    expect((await refusal({ format: 'csv', location: join(acme, 'cdm-steal') })).details.code).toBe(
      'SNAPSHOT_NOT_REGULAR_FILE',
    );
  });

  it('fails a 2 GiB sparse file over the (lowered) file cap at once, naming the file', async () => {
    const file = join(acme, 'sparse.csv');
    const handle = await open(file, 'w');
    await handle.truncate(2 * 1024 ** 3);
    await handle.close();
    const error = await refusal({ format: 'csv', location: file }, { limits: { maxFileBytes: 1024 ** 3 } });
    expect(error.details.code).toBe('SNAPSHOT_TOO_LARGE');
    expect(error.message).toContain(file);
  });

  it('fails a model.json over its cap, and an entity or header with more columns than the cap', async () => {
    const folder = join(acme, 'caps');
    await mkdir(folder);
    const attributes = Array.from({ length: 30 }, (_, i) => ({ name: `A${i}` }));
    await writeFile(join(folder, 'model.json'), JSON.stringify({ entities: [{ name: 'E', attributes, partitions: [] }] }));
    const cdm: Snapshot = { format: 'cdm-folder', location: join(folder, 'model.json'), entity: 'E' };
    expect((await refusal(cdm, { limits: { maxModelBytes: 100 } })).details.code).toBe('SNAPSHOT_TOO_LARGE');
    expect((await refusal(cdm, { limits: { maxColumns: 20 } })).details.code).toBe('SNAPSHOT_TOO_MANY_COLUMNS');
    await writeFile(join(folder, 'wide.csv'), `${attributes.map((a) => a.name).join(',')}\n`);
    expect((await refusal({ format: 'csv', location: join(folder, 'wide.csv') }, { limits: { maxColumns: 20 } })).details.code).toBe(
      'SNAPSHOT_TOO_MANY_COLUMNS',
    );
  });

  it('rejects a 5 MiB JSONL line as one row, without holding it, and reads the rest', async () => {
    const file = join(acme, 'long-line.jsonl');
    const long = `{"EMail":"x@y.z","Pad":"${'p'.repeat(5 * 1024 ** 2)}"}`;
    await writeFile(file, `{"EMail":"a@b.c"}\n${long}\r\n{"EMail":"d@e.f"}\n${long}`);
    const started = Date.now();
    const records = await readAll({ format: 'jsonl', location: file }, { chunkSize: 64 * 1024 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(records).toEqual([
      { kind: 'row', partition: 'long-line.jsonl', line: 1, values: { EMail: 'a@b.c' } },
      { kind: 'rejected', partition: 'long-line.jsonl', line: 2, reason: 'line over 1048576 bytes' },
      { kind: 'row', partition: 'long-line.jsonl', line: 3, values: { EMail: 'd@e.f' } },
      { kind: 'rejected', partition: 'long-line.jsonl', line: 4, reason: 'line over 1048576 bytes' },
    ]);
  });

  it('rejects a 5 MiB CSV record (quoted, with line breaks) as one row and reads on with the right line numbers', async () => {
    const file = join(acme, 'long-record.csv');
    const huge = `"${'q'.repeat(2 * 1024 ** 2)}\r\n${'r'.repeat(3 * 1024 ** 2)}\n""end"""`;
    await writeFile(file, `Id,Note\n1,short\n2,${huge}\n3,"after, ""quoted"""\r\n4,last\n`);
    for (const chunkSize of [64 * 1024, 7]) {
      if (chunkSize === 7) await writeFile(file, `Id,Note\n1,short\n2,"${'q'.repeat(40)}\r\n${'r'.repeat(40)}"\n3,x\n`);
      const limits = chunkSize === 7 ? { maxRecordBytes: 30 } : {};
      const records = await readAll({ format: 'csv', location: file }, { chunkSize, limits });
      const reason = `record over ${chunkSize === 7 ? 30 : 1048576} bytes`;
      expect(records).toEqual(
        chunkSize === 7
          ? [
              { kind: 'row', partition: 'long-record.csv', line: 2, values: { Id: '1', Note: 'short' } },
              { kind: 'rejected', partition: 'long-record.csv', line: 3, reason },
              { kind: 'row', partition: 'long-record.csv', line: 5, values: { Id: '3', Note: 'x' } },
            ]
          : [
              { kind: 'row', partition: 'long-record.csv', line: 2, values: { Id: '1', Note: 'short' } },
              { kind: 'rejected', partition: 'long-record.csv', line: 3, reason },
              { kind: 'row', partition: 'long-record.csv', line: 6, values: { Id: '3', Note: 'after, "quoted"' } },
              { kind: 'row', partition: 'long-record.csv', line: 7, values: { Id: '4', Note: 'last' } },
            ],
      );
    }
  });

  it('never quotes file content in a rejection reason or an error', async () => {
    const passwdLike = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n{"a":1, oops}\n';
    await writeFile(join(acme, 'passwd-copy.jsonl'), passwdLike);
    const records = await readAll({ format: 'jsonl', location: join(acme, 'passwd-copy.jsonl') });
    expect(records.map((r) => (r.kind === 'rejected' ? r.reason : r.kind))).toEqual(['invalid JSON', 'invalid JSON', 'invalid JSON']);
    await writeFile(join(acme, 'bad-quote.csv'), 'Id,Note\n1,se"cret-content\n');
    const error = await refusal({ format: 'csv', location: join(acme, 'bad-quote.csv') });
    expect(error.details.code).toBe('INVALID_SNAPSHOT');
    expect(error.message).not.toContain('cret-content');
    await mkdir(join(acme, 'bad-model'));
    await writeFile(join(acme, 'bad-model', 'model.json'), '{"entities": [secret-content');
    const model = await refusal({ format: 'cdm-folder', location: join(acme, 'bad-model', 'model.json'), entity: 'E' });
    expect(model.details.code).toBe('INVALID_SNAPSHOT');
    expect(model.message).not.toContain('secret-content');
  });

  it('still reads a regular file of the tenant, also through a link that stays inside its folder', async () => {
    await writeFile(join(acme, 'own.csv'), 'Id,EMail\n1,own@acme.example\n');
    await symlink(join(acme, 'own.csv'), join(acme, 'own-link.csv'));
    for (const location of [join(acme, 'own.csv'), pathToFileURL(join(acme, 'own-link.csv')).href]) {
      expect(await readAll({ format: 'csv', location })).toEqual([
        { kind: 'row', partition: expect.any(String), line: 2, values: { Id: '1', EMail: 'own@acme.example' } },
      ]);
    }
  });
});
