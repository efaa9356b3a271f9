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

/**
 * Polls the run and draws the progress of its current phase (queued, extracting, staging, sending, removing,
 * finished) with its status until the run ends; returns the final run. Against an API without phases: the
 * delivered/eligible count.
 */
export async function watchRun(api: Api, runId: string, options: WatchOptions): Promise<RunLike> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const bar = new SingleBar(
    {
      format: 'run {runId} |{bar}| {value}/{total} {phase} | {status}',
      stream: options.stream,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    Presets.shades_classic,
  );
  let run = await api.request<RunLike>('GET', `/v1/runs/${encodeURIComponent(runId)}`);
  const shown = (r: RunLike) =>
    r.phase && r.progress
      ? { done: r.progress.done, total: r.progress.total, phase: r.phase }
      : { done: r.counts.delivered, total: r.counts.eligible, phase: 'delivered' };
  let now = shown(run);
  bar.start(Math.max(now.total, 1), now.done, { runId: run.id, status: run.status, phase: now.phase });
  try {
    while (!TERMINAL.has(run.status)) {
      await sleep(options.intervalMs);
      run = await api.request<RunLike>('GET', `/v1/runs/${encodeURIComponent(runId)}`);
      now = shown(run);
      bar.setTotal(Math.max(now.total, 1));
      bar.update(now.done, { status: run.status, phase: now.phase });
    }
  } finally {
    bar.stop();
  }
  return run;
}
