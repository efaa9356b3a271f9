import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { classifyPath } from '../http/internal-listener';

/** Paths that belong to the API, never to the console's client-side routes. */
const API_PREFIX = /^\/v1(\/|$)/i;

/**
 * The console's static files (Vite's build) at `/`, with index.html for the client-side routes
 * (`/connections`, `/exports/...`). Hashed assets are cached for good; index.html is revalidated each time,
 * so a new build is picked up at the next load. Without a build the console paths answer 404 and say why.
 */
export function consoleStaticMiddleware(dir: string, connectSources: string[] = []) {
  const index = join(dir, 'index.html');
  const assets = express.static(dir, { index: false, fallthrough: true, cacheControl: false });
  const csp = [
    "default-src 'self'",
    `connect-src 'self' ${connectSources.join(' ')}`.trim(),
    "img-src 'self' data:",
    "style-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
  return (req: Request, res: Response, next: NextFunction): void => {
    // The whole path: a middleware mounted by Nest sees req.path relative to its mount point.
    const path = new URL(req.originalUrl, 'http://console.invalid').pathname;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PREFIX.test(path)) return next();
    if (classifyPath(path) !== 'public') return next();
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Vite names every asset after its content hash: an asset never changes under its name.
    res.setHeader('Cache-Control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    assets(req, res, () => {
      // Not a file: a client-side route gets index.html; anything that asks for something else goes on (404).
      if (!req.accepts('html') || /\.[a-z0-9]+$/i.test(path)) return next();
      if (!existsSync(index)) {
        res.status(404).type('text/plain').send('The web console is not built (npx nx build console).');
        return;
      }
      res.setHeader('Content-Security-Policy', csp);
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  };
}
