import { CreateConnectionBody, UpdateConnectionBody } from '@export/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api/client';
import { keys, useConnections, useExports } from '../api/hooks';
import type { Connection } from '../api/types';
import { fieldErrors } from '../api/validation';
import { can } from '../auth/session';
import { useSignedIn } from '../auth/session-context';
import { Dialog, ErrorMessage, Field, Loading, Notice } from '../components/ui';

export function ConnectionsPage() {
  const { t } = useTranslation();
  const session = useSignedIn();
  const connections = useConnections();
  const exports = useExports();
  const [adding, setAdding] = useState(false);
  const [rotating, setRotating] = useState<Connection | null>(null);
  const [removing, setRemoving] = useState<Connection | null>(null);
  const [notice, setNotice] = useState('');
  const admin = can.manageConnections(session);

  const usedBy = (id: string) => (exports.data ?? []).filter((e) => e.connectionId === id);

  return (
    <section aria-labelledby="connections-title">
      <h1 id="connections-title">{t('connections.title')}</h1>
      {notice && <Notice>{notice}</Notice>}
      {admin && !adding && (
        <button type="button" onClick={() => setAdding(true)}>
          {t('connections.add')}
        </button>
      )}
      {adding && (
        <AddConnectionForm
          onDone={(name) => {
            setAdding(false);
            if (name) setNotice(t('connections.created', { name }));
          }}
        />
      )}
      {connections.isPending ? (
        <Loading />
      ) : connections.isError ? (
        <ErrorMessage error={connections.error} />
      ) : connections.data.length === 0 ? (
        <p>{t('connections.empty')}</p>
      ) : (
        <table>
          <caption className="visually-hidden">{t('connections.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('connections.name')}</th>
              <th scope="col">{t('connections.status')}</th>
              <th scope="col">{t('connections.key')}</th>
              <th scope="col">{t('connections.usage')}</th>
              <th scope="col">{t('connections.exportUsers')}</th>
              <th scope="col">{t('connections.exportsUsing')}</th>
              {admin && <th scope="col">{t('connections.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {connections.data.map((c) => (
              <tr key={c.id}>
                <th scope="row">{c.displayName}</th>
                <td>
                  <span className={`badge badge-${c.status}`}>{c.status}</span>
                </td>
                <td>{t('connections.keyLast4', { last4: c.apiKeyLast4 })}</td>
                <td>{c.allowContributors ? t('connections.contributorsToo') : t('connections.adminsOnly')}</td>
                <td>{c.exportUsers.length ? c.exportUsers.join(', ') : t('app.none')}</td>
                <td>{usedBy(c.id).map((e) => e.name).join(', ') || t('app.none')}</td>
                {admin && (
                  <td className="actions">
                    <button type="button" onClick={() => setRotating(c)} aria-label={`${t('connections.rotate')}: ${c.displayName}`}>
                      {t('connections.rotate')}
                    </button>
                    <button type="button" className="danger" onClick={() => setRemoving(c)} aria-label={`${t('connections.remove')}: ${c.displayName}`}>
                      {t('connections.remove')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <RotateDialog connection={rotating} onClose={(done) => {
        setRotating(null);
        if (done) setNotice(t('connections.rotated'));
      }} />
      <RemoveDialog connection={removing} exportCount={removing ? usedBy(removing.id).length : 0} onClose={() => setRemoving(null)} />
    </section>
  );
}

/** A key Autopilot refused (422) is shown next to the key field, in Autopilot's words. */
function keyError(error: unknown): string | undefined {
  return error instanceof ApiError && error.status === 422 ? error.message : undefined;
}

function AddConnectionForm({ onDone }: { onDone(name?: string): void }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [displayName, setDisplayName] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [allowContributors, setAllowContributors] = useState(false);
  const [consent, setConsent] = useState(false);
  const [addMe, setAddMe] = useState(true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: (body: unknown) => api<Connection>('POST', '/v1/connections', body),
    onSuccess: (c) => {
      void queries.invalidateQueries({ queryKey: keys.connections });
      onDone(c.displayName);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = CreateConnectionBody.safeParse({
      displayName,
      apiKey,
      allowContributors,
      privacyConsent: consent,
      addMeAsExportUser: addMe,
    });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error));
    setErrors({});
    create.mutate(parsed.data);
  };
  const rejected = keyError(create.error);
  return (
    <form onSubmit={submit} className="panel" aria-labelledby="add-connection-title" noValidate>
      <h2 id="add-connection-title">{t('connections.add')}</h2>
      <Field label={t('connections.name')} error={errors['displayName']}>
        {(p) => <input {...p} name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
      </Field>
      <Field label={t('connections.key')} error={errors['apiKey'] ?? rejected}>
        {(p) => <input {...p} name="apiKey" type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} />}
      </Field>
      <fieldset>
        <legend>{t('connections.usage')}</legend>
        <label>
          <input type="radio" name="usage" checked={!allowContributors} onChange={() => setAllowContributors(false)} /> {t('connections.adminsOnly')}
        </label>
        <label>
          <input type="radio" name="usage" checked={allowContributors} onChange={() => setAllowContributors(true)} /> {t('connections.contributorsToo')}
        </label>
      </fieldset>
      <fieldset>
        <legend>{t('connections.privacyTitle')}</legend>
        <p id="privacy-text">{t('connections.privacyText')}</p>
        <label>
          <input type="checkbox" name="privacyConsent" aria-describedby="privacy-text" checked={consent} onChange={(e) => setConsent(e.target.checked)} />{' '}
          {t('connections.consent')}
        </label>
      </fieldset>
      <label>
        <input type="checkbox" name="addMeAsExportUser" checked={addMe} onChange={(e) => setAddMe(e.target.checked)} /> {t('connections.addMe')}
      </label>
      <div className="buttons">
        <button type="submit" disabled={!consent || create.isPending} aria-describedby={consent ? undefined : 'consent-needed'}>
          {t('connections.connect')}
        </button>
        <button type="button" onClick={() => onDone()}>
          {t('app.cancel')}
        </button>
      </div>
      {!consent && (
        <p className="hint" id="consent-needed">
          {t('connections.consentNeeded')}
        </p>
      )}
      {create.isPending && <p role="status">{t('connections.connecting')}</p>}
      {create.isError && !rejected && <ErrorMessage error={create.error} />}
    </form>
  );
}

function RotateDialog({ connection, onClose }: { connection: Connection | null; onClose(done?: boolean): void }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string>();
  const rotate = useMutation({
    mutationFn: (body: unknown) => api<Connection>('PATCH', `/v1/connections/${connection?.id}`, body),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: keys.connections });
      setApiKey('');
      onClose(true);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = UpdateConnectionBody.safeParse({ apiKey });
    if (!parsed.success) return setError(fieldErrors(parsed.error)['apiKey']);
    setError(undefined);
    rotate.mutate(parsed.data);
  };
  const rejected = keyError(rotate.error);
  return (
    <Dialog open={!!connection} title={t('connections.rotateTitle', { name: connection?.displayName ?? '' })} onClose={() => onClose()}>
      <form onSubmit={submit} noValidate>
        <Field label={t('connections.newKey')} error={error ?? rejected}>
          {(p) => <input {...p} name="newApiKey" type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} />}
        </Field>
        <div className="buttons">
          <button type="submit" disabled={rotate.isPending}>
            {t('connections.rotate')}
          </button>
          <button type="button" onClick={() => onClose()}>
            {t('app.cancel')}
          </button>
        </div>
        {rotate.isError && !rejected && <ErrorMessage error={rotate.error} />}
      </form>
    </Dialog>
  );
}

function RemoveDialog({ connection, exportCount, onClose }: { connection: Connection | null; exportCount: number; onClose(): void }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [detach, setDetach] = useState(true);
  const remove = useMutation({
    mutationFn: () => api('DELETE', `/v1/connections/${connection?.id}${detach && exportCount > 0 ? '?detach=true' : ''}`),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: keys.connections });
      void queries.invalidateQueries({ queryKey: keys.exports });
      onClose();
    },
  });
  return (
    <Dialog open={!!connection} title={t('connections.removeTitle', { name: connection?.displayName ?? '' })} onClose={onClose}>
      <p>{t('connections.removeText', { count: exportCount })}</p>
      {exportCount > 0 && (
        <label>
          <input type="checkbox" name="detach" checked={detach} onChange={(e) => setDetach(e.target.checked)} /> {t('connections.detach')}
        </label>
      )}
      <div className="buttons">
        <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
          {t('connections.removeConfirm')}
        </button>
        <button type="button" onClick={onClose}>
          {t('app.cancel')}
        </button>
      </div>
      <ErrorMessage error={remove.error} />
    </Dialog>
  );
}
