import { useTranslation } from 'react-i18next';
import type { Run, RunCounts } from '../api/types';
import { formatNumber } from './ui';

export function StatusBadge({ run }: { run: Run }) {
  const { t } = useTranslation();
  return (
    <span className={`badge badge-${run.status}`} data-status={run.status}>
      {t(`runs.s.${run.status}`)}
      {run.dryRun ? ` · ${t('runs.dryRun')}` : ''}
      {run.fullResync ? ` · ${t('runs.fullResync')}` : ''}
    </span>
  );
}

const ORDER: (keyof RunCounts)[] = [
  'extracted', 'rejected', 'duplicates', 'eligible', 'added', 'updated', 'unchanged', 'removed', 'delivered', 'failed', 'overLimit', 'overQuota',
];

/** The counts the API reports (added/updated/unchanged/removed only when it reports them). */
export function Counts({ counts }: { counts: RunCounts }) {
  const { t, i18n } = useTranslation();
  return (
    <dl className="counts">
      {ORDER.filter((k) => counts[k] !== undefined).map((k) => (
        <div key={k}>
          <dt>{t(`runs.c.${k}`)}</dt>
          <dd data-count={k}>{formatNumber(counts[k], i18n.language)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Phase and a progress bar, when the API reports them. */
export function Progress({ run }: { run: Run }) {
  const { t, i18n } = useTranslation();
  if (!run.phase && !run.progress) return null;
  const { done = 0, total = 0 } = run.progress ?? {};
  return (
    <div className="progress">
      {run.phase && (
        <span>
          {t('runs.phase')}: <strong data-phase={run.phase}>{run.phase}</strong>
        </span>
      )}
      {run.progress && (
        <>
          <progress
            value={total > 0 ? done : undefined}
            max={total > 0 ? total : undefined}
            aria-label={t('runs.progress')}
            aria-valuetext={t('runs.progressLabel', { done: formatNumber(done, i18n.language), total: formatNumber(total, i18n.language) })}
          />
          <span>{t('runs.progressLabel', { done: formatNumber(done, i18n.language), total: formatNumber(total, i18n.language) })}</span>
        </>
      )}
    </div>
  );
}
