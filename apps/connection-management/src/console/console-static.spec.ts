import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { consoleStaticMiddleware } from './console-static';

describe('consoleStaticMiddleware', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-static-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<div id="root"></div>');
    writeFileSync(join(dir, 'assets', 'app-1a2b.js'), 'console.log(1)');
    const app = express();
    app.use(consoleStaticMiddleware(dir, ['https://issuer.example']));
    app.use((_req, res) => res.status(404).json({ message: 'not here' }));
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves hashed assets for good and index.html for client-side routes, revalidated', async () => {
    const asset = await fetch(`${base}/assets/app-1a2b.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const route = await fetch(`${base}/exports/1/runs`, { headers: { accept: 'text/html' } });
    expect(route.status).toBe(200);
    expect(route.headers.get('cache-control')).toBe('no-cache');
    expect(route.headers.get('content-security-policy')).toContain("connect-src 'self' https://issuer.example");
    expect(await route.text()).toContain('root');
  });

  it('never answers for the API, probes or missing files', async () => {
    for (const path of ['/v1/anything', '/healthz', '/internal/x', '/assets/missing.js'])
      expect((await fetch(`${base}${path}`, { headers: { accept: 'text/html' } })).status).toBe(404);
  });
});
