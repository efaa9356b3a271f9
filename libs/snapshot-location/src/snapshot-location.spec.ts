import { confineToTenant, isInsideFolder, snapshotPath, tenantFolder } from './index';

const ROOT = '/data/snapshots';

describe('confineToTenant (lexical, no storage access)', () => {
  it.each([
    ['an absolute path', '/data/snapshots/acme/2026-11-28/model.json'],
    ['a file:// URI', 'file:///data/snapshots/acme/2026-11-28/model.json'],
    ['a percent-encoded URI', 'file:///data/snapshots/acme/My%20Segment.csv'],
    ['a path with a harmless ..', '/data/snapshots/acme/x/../y.csv'],
    ['a root given with a trailing slash', '/data/snapshots/acme/y.csv'],
  ])('accepts %s inside the tenant folder', (_name, location) => {
    const result = confineToTenant(`${ROOT}/`, 'acme', location);
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.path.startsWith('/data/snapshots/acme/')).toBe(true);
  });

  it.each([
    ["another tenant's folder by absolute path", '/data/snapshots/other/seg.csv'],
    ["another tenant's folder by file:// URI", 'file:///data/snapshots/other/seg.csv'],
    ['a folder whose name starts like the tenant', '/data/snapshots/acme-evil/seg.csv'],
    ['../ out of the tenant folder', '/data/snapshots/acme/../other/seg.csv'],
    ['../ in a URI', 'file:///data/snapshots/acme/../other/seg.csv'],
    ['percent-encoded ../ in a URI', 'file:///data/snapshots/acme/%2e%2e/other/seg.csv'],
    ['/etc/passwd', 'file:///etc/passwd'],
    ['the tenant folder itself', '/data/snapshots/acme'],
    ['the root itself', '/data/snapshots'],
    ['a relative path', 'acme/seg.csv'],
    ['a relative path with ..', '../acme/seg.csv'],
    ['another scheme', 'https://lake.example/acme/seg.csv'],
    ['a NUL character', '/data/snapshots/acme/seg.csv\u0000.txt'],
    ['an encoded NUL', 'file:///data/snapshots/acme/seg%00.csv'],
    ['a line break', '/data/snapshots/acme/seg\n.csv'],
  ])('refuses %s with SNAPSHOT_OUTSIDE_TENANT_ROOT', (_name, location) => {
    expect(confineToTenant(ROOT, 'acme', location)).toMatchObject({ ok: false, code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT' });
  });

  it.each([['..'], ['.'], ['../other'], ['acme/../other'], ['a\u0000b'], ['x'.repeat(65)], ['']])(
    'refuses every location of the tenant id %j (not a plain name)',
    (tenantId) => {
      expect(tenantFolder(ROOT, tenantId)).toBeUndefined();
      expect(confineToTenant(ROOT, tenantId, '/data/snapshots/other/seg.csv')).toMatchObject({
        ok: false,
        code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT',
      });
    },
  );

  it('resolves a partition location relative to model.json, and refuses one that leaves the folder', () => {
    const model = '/data/snapshots/acme/cdm/model.json';
    expect(confineToTenant(ROOT, 'acme', 'part/p1.csv', model)).toEqual({ ok: true, path: '/data/snapshots/acme/cdm/part/p1.csv' });
    expect(confineToTenant(ROOT, 'acme', '../../other/p1.csv', model)).toMatchObject({ ok: false, code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT' });
  });

  it('says a broken file URI is unreadable', () => {
    expect(snapshotPath('file://remote-host/x.csv')).toMatchObject({ ok: false, code: 'SNAPSHOT_UNREADABLE' });
  });
});

describe('isInsideFolder', () => {
  it('is strict and segment-wise', () => {
    expect(isInsideFolder('/a/b', '/a/b/c')).toBe(true);
    expect(isInsideFolder('/a/b', '/a/b')).toBe(false);
    expect(isInsideFolder('/a/b', '/a/bc')).toBe(false);
    expect(isInsideFolder('/a/b', '/a/b/..c')).toBe(true);
  });
});
