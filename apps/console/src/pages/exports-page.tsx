import type { ExportView } from '@export/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router';
import { api } from '../api/client';
import { keys, useConnections, useExports } from '../api/hooks';
import type { Connection } from '../api/types';
import { type Session } from '../auth/session';
import { useSignedIn } from '../auth/session-context';
import { ErrorMessage, Loading, Notice } from '../components/ui';

/** Mirrors the API's rule (export-access): who may set up, run or cancel an export through a connection. */
export function mayUseConnection(session: Session, connection: Connection | undefined): boolean {
  if (session.role === 'admin') return true;
  if (session.role !== 'contributor' || !connection?.allowContributors) return false;
  return connection.exportUsers.length === 0 || connection.exportUsers.includes(session.user);
}

export function ExportsPage() {
  const { t } = useTranslation();
  const session = useSignedIn();
  const exports = useExports();
  const connections = useConnections();
  const queries = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [notice, setNotice] = useState<string>((location.state as { notice?: string } | null)?.notice ?? '');
  const connectionOf = (e: ExportView) => connections.data?.find((c) => c.id === e.connectionId);
  const mayUse = (e: ExportView) => mayUseConnection(session, connectionOf(e));
  const mayAdd = (connections.data ?? []).some((c) => mayUseConnection(session, c));

  const run = useMutation({
    mutationFn: (e: ExportView) => api<{ runId: string }>('POST', `/v1/exports/${e.id}/runs`, {}, { 'Idempotency-Key': crypto.randomUUID() }),
    onSuccess: (_, e) => {
      void queries.invalidateQueries({ queryKey: keys.runs(e.id) });
      navigate(`/exports/${e.id}/runs`, { state: { notice: t('exports.runQueued') } });
    },
  });
  const remove = useMutation({
    mutationFn: (e: ExportView) => api('DELETE', `/v1/exports/${e.id}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.exports }),
  });

  return (
    <section aria-labelledby="exports-title">
      <h1 id="exports-title">{t('exports.title')}</h1>
      {notice && <Notice>{notice}</Notice>}
      {mayAdd && (
        <Link className="button" to="/exports/new">
          {t('exports.add')}
        </Link>
      )}
      {exports.isPending ? (
        <Loading />
      ) : exports.isError ? (
        <ErrorMessage error={exports.error} />
      ) : exports.data.length === 0 ? (
        <p>{t('exports.empty')}</p>
      ) : (
        <table>
          <caption className="visually-hidden">{t('exports.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('exports.name')}</th>
              <th scope="col">{t('exports.connection')}</th>
              <th scope="col">{t('exports.segments')}</th>
              <th scope="col">{t('exports.state')}</th>
              <th scope="col">{t('connections.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {exports.data.map((e) => (
              <tr key={e.id}>
                <th scope="row">{e.name}</th>
                <td>{connectionOf(e)?.displayName ?? t('exports.noConnection')}</td>
                <td>{e.segmentIds.join(', ')}</td>
                <td>{e.state === 'ready' ? t('exports.ready') : t('exports.noConnection')}</td>
                <td className="actions">
                  <Link to={`/exports/${e.id}/runs`} aria-label={`${t('exports.runs')}: ${e.name}`}>
                    {t('exports.runs')}
                  </Link>
                  {mayUse(e) && (
                    <>
                      {e.state === 'ready' && (
                        <button type="button" disabled={run.isPending} onClick={() => run.mutate(e)} aria-label={`${t('exports.runNow')}: ${e.name}`}>
                          {t('exports.runNow')}
                        </button>
                      )}
                      <Link to={`/exports/${e.id}/edit`} aria-label={`${t('exports.edit')}: ${e.name}`}>
                        {t('exports.edit')}
                      </Link>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`${t('exports.delete')}: ${e.name}`}
                        onClick={() => {
                          if (window.confirm(t('exports.deleteConfirm', { name: e.name }))) {
                            setNotice('');
                            remove.mutate(e);
                          }
                        }}
                      >
                        {t('exports.delete')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorMessage error={run.error ?? remove.error} />
    </section>
  );
}
