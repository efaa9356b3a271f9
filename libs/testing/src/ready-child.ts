import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Runs a Node script as a child process and resolves once it prints a JSON line with `"ready":true` (test
 * helpers such as an OpenID Connect provider announce their address that way); rejects with its stderr if it
 * exits or stays silent past `timeoutMs`.
 */
export async function startReadyChild<T extends { ready: true }>(
  script: string,
  env: Record<string, string>,
  timeoutMs = 30000,
): Promise<{ child: ChildProcess; ready: T }> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let errorOutput = '';
  child.stderr?.on('data', (chunk) => (errorOutput += chunk));
  const ready = await new Promise<T>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${errorOutput}`)), timeoutMs);
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const line = output.split('\n').find((l) => l.includes('"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as T);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${errorOutput}`));
    });
  });
  return { child, ready };
}

/** SIGTERM, then waits for the exit (at once when it already ended). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
