import express, { Express, NextFunction, Request, Response } from 'express';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import pino, { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { createAutopilotApiRouter } from './autopilot-api.router';
import { createControlApiRouter } from './control-api.router';
import { PendingTimers } from './pending-timers';
import { SimulatorState, SimulatorStateOptions } from './simulator-state';

export interface SimulatorOptions extends SimulatorStateOptions {
  /** where the Autopilot API is served; default `/v1` (`''` or `/` serves it at the root) */
  basePath?: string;
  /** default host for `listen`; default 127.0.0.1 */
  host?: string;
  /** default: a silent logger */
  logger?: Logger;
  /** log every request (off by default: it costs throughput) */
  logRequests?: boolean;
  /** largest JSON body accepted by the Autopilot API; default `10mb` */
  bodyLimit?: string;
}

export interface SimulatorAddress {
  host: string;
  port: number;
  /** `http://host:port` */
  url: string;
  /** `http://host:port<basePath>`: what the product takes as AUTOPILOT_BASE_URL */
  baseUrl: string;
}

export interface Simulator {
  app: Express;
  state: SimulatorState;
  /** Starts listening (port 0 picks a free port) and resolves once the port is bound. */
  listen(port?: number, host?: string): Promise<SimulatorAddress>;
  /** Stops listening, drops open connections and pending delayed answers. */
  close(): Promise<void>;
}

/** Normalises a base path: leading slash, no trailing slash, `''` for the root. */
export function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** Builds an Autopilot simulator that runs in-process (tests) or behind `main.ts`. */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const logger = options.logger ?? pino({ level: 'silent' });
  const basePath = normaliseBasePath(options.basePath ?? '/v1');
  const state = new SimulatorState(options);
  const timers = new PendingTimers();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (options.logRequests) app.use(pinoHttp({ logger }));
  app.use('/__sim', createControlApiRouter(state, logger));
  app.use(basePath || '/', createAutopilotApiRouter(state, timers, { bodyLimit: options.bodyLimit ?? '10mb' }));
  app.use((_req: Request, res: Response) => {
    state.recordResponse('unmatched', 404);
    res.status(404).end();
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: error }, 'simulator request failed');
    if (!res.headersSent) res.status(500).json({ error: 'Internal Server Error', message: 'Simulator failure.' });
  });

  let server: Server | undefined;

  return {
    app,
    state,
    listen(port = 0, host = options.host ?? '127.0.0.1') {
      if (server) return Promise.reject(new Error('The simulator is already listening.'));
      const listening = createServer(app);
      server = listening;
      return new Promise<SimulatorAddress>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => {
          listening.off('error', reject);
          const address = listening.address() as AddressInfo;
          const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          const url = `http://${urlHost}:${address.port}`;
          resolve({ host: address.address, port: address.port, url, baseUrl: `${url}${basePath}` });
        });
      });
    },
    close() {
      timers.clear();
      const closing = server;
      server = undefined;
      if (!closing) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        closing.close((error) => (error ? reject(error) : resolve()));
        closing.closeAllConnections();
      });
    },
  };
}
