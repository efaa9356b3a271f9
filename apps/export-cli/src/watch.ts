import { SingleBar, Presets } from 'cli-progress';
import type { Api } from './api-client';
import type { RunLike } from './format';

const TERMINAL = new Set(['succeeded', 'failed', 'skipped', 'canceled']);

export interface WatchOptions {
  intervalMs: number;
  stream: NodeJS.WritableStream;
  /** Injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** Polls the run and draws delivered/eligible with its status until the run ends; returns the final run. */
export async function watchRun(api: Api, runId: string, options: WatchOptions): Promise<RunLike> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const bar = new SingleBar(
    {
      format: 'run {runId} |{bar}| {value}/{total} delivered | {status}',
      stream: options.stream,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    Presets.shades_classic,
  );
  let run = await api.request<RunLike>('GET', `/v1/runs/${encodeURIComponent(runId)}`);
  bar.start(Math.max(run.counts.eligible, 1), run.counts.delivered, { runId: run.id, status: run.status });
  try {
    while (!TERMINAL.has(run.status)) {
      await sleep(options.intervalMs);
      run = await api.request<RunLike>('GET', `/v1/runs/${encodeURIComponent(runId)}`);
      bar.setTotal(Math.max(run.counts.eligible, 1));
      bar.update(run.counts.delivered, { status: run.status });
    }
  } finally {
    bar.stop();
  }
  return run;
}
