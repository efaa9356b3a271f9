import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const workspace = fileURLToPath(new URL('../..', import.meta.url));
// The control plane the development server forwards the API to (`nx serve connection-management`).
const api = process.env['CONSOLE_API_URL'] ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  resolve: {
    // Only the contracts (zod schemas) are shared with the services; nothing else crosses into the browser.
    alias: { '@export/contracts': `${workspace}/libs/contracts/src/index.ts` },
  },
  server: { port: 4200, host: '127.0.0.1', proxy: { '/v1': { target: api, changeOrigin: false } } },
  preview: { port: 4300, host: '127.0.0.1' },
  build: {
    outDir: `${workspace}/dist/apps/console`,
    emptyOutDir: true,
    reportCompressedSize: true,
    sourcemap: false,
  },
});
