import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';

export const WORKSPACE_ROOT = resolve(__dirname, '../../..');

export interface ServiceProcessOptions {
  /** Name used for the log file and in errors. */
  name: string;
  /** Script to run with node, relative to the workspace root (e.g. dist/apps/field-mapping/main.js). */
  entry: string;
  env: Record<string, string>;
  /** Node options before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
  /** Port whose /readyz (or `readyPath`) must answer 200 before the service counts as started. */
  port: number;
  readyPath?: string;
  /** Folder for the service's log file (stdout and stderr). */
  logDir?: string;
  readyTimeoutMs?: number;
}

export interface ServiceProcess {
  name: string;
  pid: number;
  port: number;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once, as a crash would. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts a built service as a separate process and waits until it reports ready. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const logDir = options.logDir ?? join(WORKSPACE_ROOT, 'tmp', 'logs');
  mkdirSync(logDir, { recursive: true });
  const log: WriteStream = createWriteStream(join(logDir, `${options.name}.log`), { flags: 'a' });
  const chunks: string[] = [];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), join(WORKSPACE_ROOT, options.entry)], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, NODE_ENV: 'development', PORT: String(options.port), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const capture = (data: Buffer) => {
    const text = data.toString();
    chunks.push(text);
    log.write(text);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => {
      log.end();
      resolveExit(code);
    }),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const service: ServiceProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    port: options.port,
    child,
    output: () => chunks.join(''),
    exited,
    stop: async (graceMs = 15000) => {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      if (hasExited) return;
      child.kill('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60000);
  const url = `http://127.0.0.1:${options.port}${options.readyPath ?? '/readyz'}`;
  for (;;) {
    if (hasExited) {
      throw new Error(`${options.name} exited before it was ready:\n${service.output().slice(-4000)}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return service;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await service.kill();
      throw new Error(`${options.name} was not ready at ${url} in time:\n${service.output().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Current resident memory (VmRSS) of a process, in MiB (Linux); sample it to find a peak. */
export async function readRssMiB(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
