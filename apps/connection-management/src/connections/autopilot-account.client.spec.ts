import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@export/errors';
import { AutopilotAccountClient } from './autopilot-account.client';

describe('AutopilotAccountClient', () => {
  let server: Server;
  let baseUrl: string;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const key = req.headers['autopilotapikey'] as string | undefined;
      seen.push(key);
      if (key === 'good-key') return res.writeHead(200).end('{}');
      if (key === 'busy-key') return res.writeHead(503).end();
      if (key === 'slow-key') return; // never answers
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: 'Unauthorized', message: `Provided autopilotapikey not valid: ${key}` }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const kindOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'ok',
      (error: unknown) => (error instanceof AppError ? error.kind : 'other'),
    );

  it('sends the key in the autopilotapikey header and accepts a 200', async () => {
    await new AutopilotAccountClient(baseUrl, 1000).verifyKey('good-key');
    expect(seen.at(-1)).toBe('good-key');
  });

  it("maps a rejected key to upstream-rejected (422) with Autopilot's message, never the key", async () => {
    const error = await new AutopilotAccountClient(baseUrl, 1000)
      .verifyKey('bad-key-123')
      .catch((e: AppError) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('upstream-rejected');
    expect((error as AppError).message).toBe(
      'Autopilot rejected the API key (401): Provided autopilotapikey not valid: [redacted]',
    );
  });

  it('maps 5xx, timeouts and unreachable hosts to upstream-unavailable (502)', async () => {
    expect(await kindOf(new AutopilotAccountClient(baseUrl, 1000).verifyKey('busy-key'))).toBe(
      'upstream-unavailable',
    );
    expect(await kindOf(new AutopilotAccountClient(baseUrl, 200).verifyKey('slow-key'))).toBe(
      'upstream-unavailable',
    );
    expect(
      await kindOf(new AutopilotAccountClient('http://127.0.0.1:1/v1', 1000).verifyKey('good-key')),
    ).toBe('upstream-unavailable');
  });

  it('never follows a redirect: a 302 is an upstream failure and its target is never called', async () => {
    let targetHits = 0;
    const target = createServer((req, res) => {
      targetHits += 1;
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/v1/account`;
    const redirector = createServer((req, res) => {
      res.writeHead(302, { location: targetUrl }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    const redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/v1`;
    try {
      const error = await new AutopilotAccountClient(redirectorUrl, 1000)
        .verifyKey('good-key')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).kind).toBe('upstream-unavailable');
      expect((error as AppError).message).toBe(
        'Autopilot GET /account answered with a redirect (HTTP 302); redirects are not followed',
      );
      expect((error as AppError).message).not.toContain('good-key');
      expect(targetHits).toBe(0);
    } finally {
      for (const server of [redirector, target]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});
