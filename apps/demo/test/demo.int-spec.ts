import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createTestDatabase, WORKSPACE_ROOT, type TestDatabase } from '@export/testing';

/** Whether every port is free on the loopback interface now. */
async function free(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const ok = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!ok) return false;
  }
  return true;
}

/** A block for the demo's --base-port: base..base+3, base+89 (simulator), base+100 (internal listener). */
async function freeBlock(): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    if (await free([0, 1, 2, 3, 89, 100].map((offset) => base + offset))) return base;
  }
}

/**
 * `npm run demo`'s program, as the main job runs it: the simulator, npm start's supervised services (built
 * dist/apps), and the export driven through export-cli, on a database of its own.
 */
describe('demo', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('demo');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('exports a generated segment through export-cli, shows the run to its summary and stops cleanly', async () => {
    const basePort = await freeBlock();
    const child = spawn(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        'apps/demo/src/demo/main.ts',
        '--profiles',
        '300',
        '--rps',
        '0',
        '--base-port',
        String(basePort),
      ],
      {
        cwd: WORKSPACE_ROOT,
        env: {
          ...process.env,
          SWC_NODE_PROJECT: 'tsconfig.base.json',
          DATABASE_URL: database.url,
          NODE_ENV: 'development',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect({ code, tail: code === 0 ? '' : output.slice(-4000) }).toEqual({ code: 0, tail: '' });
    expect(output).toContain(
      `[start] starting connection-management :${basePort}, segment-extraction :${basePort + 1}`,
    );
    expect(output).toMatch(/export-cli events validate[\s\S]*valid: eventId [\s\S]*published eventId/);
    expect(output).toMatch(/connection [0-9a-f-]{36} \(key ending/);
    const summary =
      /succeeded: delivered (\d+)\/(\d+) \(added \d+, updated 0, unchanged 0\), removed 0, extracted 300, rejected 3/.exec(
        output,
      );
    expect(summary?.[1]).toBe(summary?.[2]);
    expect(Number(summary?.[1])).toBeGreaterThan(280);
    expect(output).toMatch(/Autopilot simulator: \d+ requests, 0 answered 429/);
    // Incremental sync: the preview (a dry run) predicts that nothing changed, and the next run sends nothing.
    expect(output).toMatch(
      /succeeded \[dry run: nothing was sent or changed[^\]]*\]: delivered 0\/\d+ \(added 0, updated 0, unchanged \d+\)/,
    );
    expect(output).toContain('second run: succeeded, 0 Autopilot requests');
    expect(output).toContain('[start] all services stopped');
  });
});
