import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable, type INestApplication, type OnApplicationShutdown } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * The control plane's second listener. One Nest application, one module graph, one Express instance, two
 * HTTP servers: the public one (PORT, what `app.listen` starts) and this one (INTERNAL_PORT), which marks
 * every request it accepts before Express sees it. A mark set in process cannot be forged by a client (a
 * header could be; the local port could be remapped by a proxy), so routing and the service guard rely on it.
 */
const ARRIVED_INTERNALLY = Symbol('arrived-on-internal-listener');

export function arrivedOnInternalListener(req: IncomingMessage): boolean {
  return (req as IncomingMessage & { [ARRIVED_INTERNALLY]?: true })[ARRIVED_INTERNALLY] === true;
}

export type PathClass = 'internal' | 'metrics' | 'docs' | 'probe' | 'public';

/**
 * What a request path is, normalised as generously as any router could read it (Express matches paths
 * case-insensitively and tolerates repeated slashes; percent-encoding is decoded first).
 */
export function classifyPath(path: string): PathClass {
  let p = path;
  try {
    p = decodeURIComponent(path);
  } catch {
    // a malformed escape: classify the raw path
  }
  p = p.toLowerCase().replace(/[/\\]+/g, '/');
  if (p === '/internal' || p.startsWith('/internal/')) return 'internal';
  if (p === '/metrics' || p === '/metrics/') return 'metrics';
  if (p === '/docs' || p.startsWith('/docs/') || p.startsWith('/docs-json')) return 'docs';
  if (p === '/healthz' || p === '/readyz') return 'probe';
  return 'public';
}

export interface ListenerRouting {
  metricsOnInternal: boolean;
  docsOnInternal: boolean;
}

/** Whether a path of this class is served on the internal listener (true) or the public one (false). */
export function servedOn(kind: PathClass, routing: ListenerRouting, internal: boolean): boolean {
  switch (kind) {
    case 'internal':
      return internal;
    case 'metrics':
      return internal === routing.metricsOnInternal;
    case 'docs':
      return internal === routing.docsOnInternal;
    case 'probe':
      return true;
    case 'public':
      return !internal;
  }
}

/**
 * First middleware of the app: a path the listener does not serve answers 404 as if it did not exist —
 * `/internal/*` on the public port above all; the REST API, the console and (unless moved) /metrics and
 * /docs on the internal one.
 */
export function listenerRoutingMiddleware(routing: ListenerRouting) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const kind = classifyPath(req.path);
    if (servedOn(kind, routing, arrivedOnInternalListener(req))) return next();
    res
      .status(404)
      .json({ statusCode: 404, error: 'Not Found', message: `Cannot ${req.method} ${req.path}` });
  };
}

/** Owns the internal HTTP server: started after the public one, closed with the app. */
@Injectable()
export class InternalListener implements OnApplicationShutdown {
  private server?: Server;

  /** Serves the app's Express instance on `port` (0: any free port) and `host`; resolves with the bound address. */
  async listen(app: INestApplication, port: number, host: string): Promise<AddressInfo> {
    const express = app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: unknown) => void;
    const server = createServer((req, res) => {
      (req as IncomingMessage & { [ARRIVED_INTERNALLY]?: true })[ARRIVED_INTERNALLY] = true;
      express(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }
}
