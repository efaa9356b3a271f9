import { useTranslation } from 'react-i18next';
import { ACTIVE_RUN_STATUSES, type RunCounts, type RunView } from '@export/contracts';
import { formatNumber } from './ui';

export function StatusBadge({ run }: { run: RunView }) {
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

/** The run's counts; a dry run's are what a real run would do. */
export function Counts({ counts }: { counts: RunCounts }) {
  const { t, i18n } = useTranslation();
  return (
    <dl className="counts">
      {ORDER.map((k) => (
        <div key={k}>
          <dt>{t(`runs.c.${k}`)}</dt>
          <dd data-count={k}>{formatNumber(counts[k], i18n.language)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The run's phase, and while it is queued or running a bar of the current phase's progress. */
export function Progress({ run }: { run: RunView }) {
  const { t, i18n } = useTranslation();
  const { done, total } = run.progress;
  const label = total > 0 ? t('runs.progressLabel', { done: formatNumber(done, i18n.language), total: formatNumber(total, i18n.language) }) : undefined;
  return (
    <div className="progress">
      <span>
        {t('runs.phase')}: <strong data-phase={run.phase}>{t(`runs.ph.${run.phase}`)}</strong>
      </span>
      {ACTIVE_RUN_STATUSES.includes(run.status) && (
        <>
          {/* Indeterminate until the phase knows its total. */}
          <progress value={total > 0 ? done : undefined} max={total > 0 ? total : undefined} aria-label={t('runs.progress')} aria-valuetext={label} />
          {total > 0 && <span>{label}</span>}
        </>
      )}
    </div>
  );
}
