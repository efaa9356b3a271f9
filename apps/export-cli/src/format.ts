import { ApiError, CliError } from './api-client';

/** One line a person can act on: status, reason phrase, message and the field at fault. */
export function formatError(error: unknown): string {
  if (error instanceof ApiError) {
    const phrase = error.body?.error ? ` ${error.body.error}` : '';
    const field = error.body?.field ? ` (field: ${error.body.field})` : '';
    const hint =
      error.status === 401
        ? ' — pass your access token with --token or EXPORT_API_TOKEN (in development: `export-cli token`)'
        : '';
    return `Error: HTTP ${error.status}${phrase}: ${error.message}${field}${hint}`;
  }
  if (error instanceof CliError) return `Error: ${error.message}`;
  return `Error: ${error instanceof Error ? error.message : String(error)}`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain, aligned text table of the given columns (dotted paths reach into nested objects). */
export function table(rows: readonly object[], columns: readonly string[]): string {
  const read = (row: object, path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>(
        (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
        row,
      );
  const cells = rows.map((row) => columns.map((c) => cell(read(row, c))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

export const COLUMNS = {
  connections: ['id', 'displayName', 'status', 'allowContributors', 'apiKeyLast4', 'exportUsers'],
  exports: ['id', 'name', 'connectionId', 'state', 'segmentIds', 'syncMode', 'limitPolicy', 'profileLimit'],
  runs: [
    'id',
    'status',
    'phase',
    'dryRun',
    'trigger',
    'queuedAt',
    'counts.added',
    'counts.updated',
    'counts.unchanged',
    'counts.removed',
    'counts.delivered',
    'counts.eligible',
    'reason',
  ],
  rejections: ['segmentId', 'partition', 'line', 'profileId', 'stage', 'reason'],
  segments: ['id', 'name', 'memberCount', 'refreshedAt'],
} as const;

export interface RunLike {
  id: string;
  status: string;
  reason?: string;
  message?: string;
  /** Absent from an API before incremental sync. */
  dryRun?: boolean;
  phase?: string;
  progress?: { done: number; total: number };
  counts: {
    added?: number;
    updated?: number;
    unchanged?: number;
    removed?: number;
    delivered: number;
    eligible: number;
    extracted: number;
    rejected: number;
    failed: number;
    overLimit: number;
    overQuota: number;
  };
}

/** The one-line summary printed when a watched run ends (and by `runs show`). */
export function runSummary(run: RunLike): string {
  const c = run.counts;
  const why = run.reason ? ` (${run.reason}${run.message ? `: ${run.message}` : ''})` : '';
  const dry = run.dryRun ? ' [dry run: nothing was sent or changed; counts are what a run would do]' : '';
  const diff =
    c.added === undefined
      ? ''
      : ` (added ${c.added}, updated ${c.updated ?? 0}, unchanged ${c.unchanged ?? 0}), removed ${c.removed ?? 0}`;
  return (
    `run ${run.id} ${run.status}${why}${dry}: delivered ${c.delivered}/${c.eligible}${diff}, extracted ${c.extracted}, ` +
    `rejected ${c.rejected}, failed ${c.failed}, over limit ${c.overLimit}, over quota ${c.overQuota}`
  );
}

/** A run's phase with the progress of that phase, e.g. `sending 300/1000`. */
export function phaseOf(run: RunLike): string {
  if (!run.phase) return run.status;
  const progress = run.progress && run.progress.total > 0 ? ` ${run.progress.done}/${run.progress.total}` : '';
  return `${run.phase}${progress}`;
}
