import { ACTIVE_RUN_STATUSES, type RunView } from '@export/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useParams } from 'react-router';
import { api } from '../api/client';
import { keys, useConnections, useExports, useRuns } from '../api/hooks';
import { MASS_REMOVAL_HELD } from '../api/types';
import { useSignedIn } from '../auth/session-context';
import { Counts, Progress, StatusBadge } from '../components/run-parts';
import { ErrorMessage, formatDateTime, Loading, Notice } from '../components/ui';
import { mayUseConnection } from './exports-page';

/** POST /v1/exports/:id/runs: a run now, a preview (dry run), a full resync, or a run applying held removals. */
type RunRequest = { dryRun?: boolean; fullResync?: boolean; confirmRemovals?: boolean };

export function RunsPage() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const session = useSignedIn();
  const location = useLocation();
  const queries = useQueryClient();
  const exp = useExports().data?.find((e) => e.id === id);
  const connection = useConnections().data?.find((c) => c.id === exp?.connectionId);
  const runs = useRuns(id);
  const mayRun = !!exp && exp.state === 'ready' && mayUseConnection(session, connection);
  const [queued, setQueued] = useState('');
  const request = useMutation({
    mutationFn: (body: RunRequest) => api('POST', `/v1/exports/${id}/runs`, body, { 'Idempotency-Key': crypto.randomUUID() }),
    onSuccess: (_, body) => {
      setQueued(
        t(body.dryRun ? 'exports.previewQueued' : body.fullResync ? 'exports.fullResyncQueued' : body.confirmRemovals ? 'runs.removalsQueued' : 'exports.runQueued'),
      );
      return queries.invalidateQueries({ queryKey: keys.runs(id) });
    },
  });
  const cancel = useMutation({
    mutationFn: (run: RunView) => api('POST', `/v1/runs/${run.id}/cancel`),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.runs(id) }),
  });
  const notice = (location.state as { notice?: string } | null)?.notice;

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">{t('runs.title', { name: exp?.name ?? id })}</h1>
      {(queued || notice) && <Notice>{queued || notice}</Notice>}
      {mayRun && (
        <div className="buttons">
          <button type="button" disabled={request.isPending} onClick={() => request.mutate({})}>
            {t('exports.runNow')}
          </button>
          <button type="button" disabled={request.isPending} onClick={() => request.mutate({ dryRun: true })}>
            {t('exports.preview')}
          </button>
          <button type="button" disabled={request.isPending} onClick={() => request.mutate({ fullResync: true })}>
            {t('exports.fullResync')}
          </button>
        </div>
      )}
      <ErrorMessage error={request.error ?? cancel.error} />
      {runs.isPending ? (
        <Loading />
      ) : runs.isError ? (
        <ErrorMessage error={runs.error} />
      ) : runs.data.length === 0 ? (
        <p>{t('runs.empty')}</p>
      ) : (
        <table aria-live="polite" aria-busy={runs.isFetching}>
          <caption className="visually-hidden">{t('runs.title', { name: exp?.name ?? id })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('runs.status')}</th>
              <th scope="col">{t('runs.trigger')}</th>
              <th scope="col">{t('runs.queued')}</th>
              <th scope="col">{t('runs.started')}</th>
              <th scope="col">{t('runs.finished')}</th>
              <th scope="col">{t('runs.counts')}</th>
              <th scope="col">{t('connections.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((r, i) => (
              <tr key={r.id} data-run={r.id}>
                <td>
                  <StatusBadge run={r} />
                  <Progress run={r} />
                  {r.reason === MASS_REMOVAL_HELD ? (
                    <div className="held" role="status" data-held={r.id}>
                      <p>
                        <strong>{t('runs.held')}</strong> {r.message}
                      </p>
                      {/* Only the newest run's held removals are worth applying: a new run computes them again. */}
                      {mayRun && i === 0 && (
                        <button type="button" disabled={request.isPending} onClick={() => request.mutate({ confirmRemovals: true })}>
                          {t('runs.applyRemovals')}
                        </button>
                      )}
                    </div>
                  ) : (
                    r.reason && <p className="reason">{r.reason}</p>
                  )}
                </td>
                <td>{t(`runs.t.${r.trigger}`)}</td>
                <td>{formatDateTime(r.queuedAt, i18n.language)}</td>
                <td>{formatDateTime(r.startedAt, i18n.language)}</td>
                <td>{formatDateTime(r.finishedAt, i18n.language)}</td>
                <td>
                  <Counts counts={r.counts} />
                </td>
                <td className="actions">
                  <Link to={`/runs/${r.id}`} aria-label={`${t('runs.details')}: ${formatDateTime(r.queuedAt, i18n.language)}`}>
                    {t('runs.details')}
                  </Link>
                  {mayRun && ACTIVE_RUN_STATUSES.includes(r.status) && (
                    <button type="button" disabled={cancel.isPending} onClick={() => cancel.mutate(r)}>
                      {t('runs.cancel')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
