import { spawn } from 'node:child_process';

/** Runs the built export-cli (`dist/apps/export-cli/main.js`), as a user would, and returns its output. */
export interface ExportCli {
  /** stdout of a command that must succeed (a failure throws with its stderr). */
  run(args: string[]): Promise<string>;
  /** The command with its progress (stderr) and summary (stdout) on this terminal; resolves with its exit code. */
  show(args: string[]): Promise<number>;
}

export function exportCli(workspace: string, env: NodeJS.ProcessEnv): ExportCli {
  const entry = `${workspace}/dist/apps/export-cli/main.js`;
  return {
    run: (args) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [entry, ...args], {
          cwd: workspace,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0
            ? resolve(out.trim())
            : reject(
                new Error(
                  `export-cli ${args[0] === '--json' ? args[1] : args[0]} ... exited ${code}: ${err.trim()}`,
                ),
              ),
        );
      }),
    show: (args) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [entry, ...args], {
          cwd: workspace,
          env,
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code ?? 1));
      }),
  };
}
