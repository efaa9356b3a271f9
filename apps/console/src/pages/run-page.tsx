import { ACTIVE_RUN_STATUSES, type RunRejection } from '@export/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../api/client';
import { keys, useConnections, useExports, useRun } from '../api/hooks';
import { useSignedIn } from '../auth/session-context';
import { Counts, Progress, StatusBadge } from '../components/run-parts';
import { ErrorMessage, formatDateTime, Loading } from '../components/ui';
import { mayUseConnection } from './exports-page';

const PAGE = 20;

export function RunPage() {
  const { runId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const session = useSignedIn();
  const queries = useQueryClient();
  const run = useRun(runId);
  const exp = useExports().data?.find((e) => e.id === run.data?.exportId);
  const connection = useConnections().data?.find((c) => c.id === exp?.connectionId);
  const cancel = useMutation({
    mutationFn: () => api('POST', `/v1/runs/${runId}/cancel`),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.run(runId) }),
  });
  if (run.isPending) return <Loading />;
  if (run.isError) return <ErrorMessage error={run.error} />;
  const r = run.data;
  const active = ACTIVE_RUN_STATUSES.includes(r.status);
  return (
    <section aria-labelledby="run-title">
      <p>
        <Link to={`/exports/${r.exportId}/runs`}>{t('runs.back')}</Link>
      </p>
      <h1 id="run-title">{t('runs.title', { name: exp?.name ?? r.exportId })}</h1>
      <div aria-live="polite">
        <StatusBadge run={r} />
        <Progress run={r} />
      </div>
      <dl className="facts">
        <dt>{t('runs.trigger')}</dt>
        <dd>{t(`runs.t.${r.trigger}`)}</dd>
        <dt>{t('runs.queued')}</dt>
        <dd>{formatDateTime(r.queuedAt, i18n.language)}</dd>
        <dt>{t('runs.started')}</dt>
        <dd>{formatDateTime(r.startedAt, i18n.language)}</dd>
        <dt>{t('runs.finished')}</dt>
        <dd>{formatDateTime(r.finishedAt, i18n.language)}</dd>
        {r.reason && (
          <>
            <dt>{t('runs.reason')}</dt>
            <dd>
              {r.reason}
              {r.message ? `: ${r.message}` : ''}
            </dd>
          </>
        )}
      </dl>
      <Counts counts={r.counts} />
      {active && mayUseConnection(session, connection) && (
        <button type="button" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
          {cancel.isPending ? t('runs.canceling') : t('runs.cancel')}
        </button>
      )}
      <ErrorMessage error={cancel.error} />
      <Rejections runId={runId} total={r.counts.rejected} />
    </section>
  );
}

/** Rejected rows with their reasons, a page at a time (the API's cursor). */
function Rejections({ runId, total }: { runId: string; total: number }) {
  const { t } = useTranslation();
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const page = useQuery({
    queryKey: ['rejections', runId, cursor ?? '', total],
    queryFn: () =>
      api<{ items: RunRejection[]; nextCursor: string | null }>(
        'GET',
        `/v1/runs/${runId}/rejections?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      ),
  });
  return (
    <section aria-labelledby="rejections-title">
      <h2 id="rejections-title">
        {t('runs.rejections')} ({total})
      </h2>
      {page.isPending ? (
        <Loading />
      ) : page.isError ? (
        <ErrorMessage error={page.error} />
      ) : page.data.items.length === 0 ? (
        <p>{t('runs.noRejections')}</p>
      ) : (
        <table>
          <caption className="visually-hidden">{t('runs.rejections')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('runs.segment')}</th>
              <th scope="col">{t('runs.line')}</th>
              <th scope="col">{t('runs.profile')}</th>
              <th scope="col">{t('runs.stage')}</th>
              <th scope="col">{t('runs.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((x) => (
              <tr key={`${x.segmentId}:${x.partition}:${x.line}`}>
                <td>{x.segmentId}</td>
                <td>{x.line}</td>
                <td>{x.profileId ?? '—'}</td>
                <td>{x.stage}</td>
                <td>{x.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="buttons">
        {cursors.length > 0 && (
          <button type="button" onClick={() => setCursors([])}>
            {t('runs.first')}
          </button>
        )}
        {page.data?.nextCursor && (
          <button type="button" onClick={() => setCursors([...cursors, page.data.nextCursor as string])}>
            {t('runs.next')}
          </button>
        )}
      </div>
    </section>
  );
}
