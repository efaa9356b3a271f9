import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny stand-in for Autopilot's `GET /account`: keys starting `valid-` work, `down-` answers 503,
 * `drop-` loses the connection, anything else is rejected with Autopilot's 401 body.
 */
export async function startAutopilotStub(): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const key = String(req.headers['autopilotapikey'] ?? '');
    if (req.method !== 'GET' || req.url !== '/v1/account') {
      res.writeHead(404).end();
    } else if (!key) {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'Bad Request', message: 'missing key' }));
    } else if (key.startsWith('valid-')) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ instance_id: 'inst_1' }));
    } else if (key.startsWith('down-')) {
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'Service Unavailable', message: '' }));
    } else if (key.startsWith('drop-')) {
      req.socket.destroy();
    } else {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'Unauthorized', message: 'Provided autopilotapikey not valid.' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
