import {
  DEFAULT_MASS_REMOVAL_PERCENT,
  MAX_PROFILES_PER_RUN,
  type CustomFieldMapping,
  type CustomFieldType,
  type ExportView,
  type SyncMode,
} from '@export/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { api, ApiError } from '../api/client';
import { keys, useConnections, useExports, useSegments } from '../api/hooks';
import { fieldErrors } from '../api/validation';
import { useSignedIn } from '../auth/session-context';
import { ErrorMessage, Field, formatDateTime, formatNumber, Loading } from '../components/ui';
import { ExportForm } from './export-schema';
import { mayUseConnection } from './exports-page';

const FIELD_TYPES: CustomFieldType[] = ['string', 'integer', 'float', 'date', 'boolean'];

export function ExportFormPage() {
  const { id } = useParams();
  const exports = useExports();
  const connections = useConnections();
  const segments = useSegments();
  if (exports.isPending || connections.isPending || segments.isPending) return <Loading />;
  const error = exports.error ?? connections.error ?? segments.error;
  if (error) return <ErrorMessage error={error} />;
  const existing = id ? exports.data?.find((e) => e.id === id) : undefined;
  if (id && !existing) return <ErrorMessage error={new Error(`Export ${id} not found`)} />;
  return <ExportEditor key={id ?? 'new'} existing={existing} />;
}

function ExportEditor({ existing }: { existing?: ExportView }) {
  const { t, i18n } = useTranslation();
  const session = useSignedIn();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const connections = (useConnections().data ?? []).filter((c) => mayUseConnection(session, c) || c.id === existing?.connectionId);
  const segments = useSegments().data ?? [];
  const [name, setName] = useState(existing?.name ?? '');
  const [connectionId, setConnectionId] = useState(existing?.connectionId ?? '');
  const [segmentIds, setSegmentIds] = useState<string[]>(existing?.segmentIds ?? []);
  const [email, setEmail] = useState(existing?.mapping.email ?? '');
  const [firstName, setFirstName] = useState(existing?.mapping.firstName ?? '');
  const [lastName, setLastName] = useState(existing?.mapping.lastName ?? '');
  const [custom, setCustom] = useState<CustomFieldMapping[]>(existing?.mapping.custom ?? []);
  const [limitPolicy, setLimitPolicy] = useState(existing?.limitPolicy ?? 'skip');
  const [profileLimit, setProfileLimit] = useState(String(existing?.profileLimit ?? MAX_PROFILES_PER_RUN));
  const [syncMode, setSyncMode] = useState<SyncMode>(existing?.syncMode ?? 'mirror');
  const [massRemovalPercent, setMassRemovalPercent] = useState(String(existing?.massRemovalPercent ?? DEFAULT_MASS_REMOVAL_PERCENT));
  const [listNames, setListNames] = useState<Record<string, string>>(existing?.listNames ?? {});
  const [errors, setErrors] = useState<Record<string, string>>({});

  const save = useMutation({
    mutationFn: (body: ExportForm) =>
      existing ? api<ExportView>('PATCH', `/v1/exports/${existing.id}`, body) : api<ExportView>('POST', '/v1/exports', body),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: keys.exports });
      navigate('/exports', { state: { notice: t('exports.saved') } });
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const names = Object.fromEntries(Object.entries(listNames).filter(([sid, n]) => segmentIds.includes(sid) && n.trim()));
    const parsed = ExportForm.safeParse({
      name,
      connectionId,
      segmentIds,
      mapping: {
        email,
        ...(firstName.trim() ? { firstName } : {}),
        ...(lastName.trim() ? { lastName } : {}),
        ...(custom.length ? { custom } : {}),
      },
      limitPolicy,
      profileLimit: Number(profileLimit),
      listNames: names,
      syncMode,
      massRemovalPercent: Number(massRemovalPercent),
    });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error));
    setErrors({});
    save.mutate(parsed.data);
  };
  const setField = (i: number, patch: Partial<CustomFieldMapping>) => setCustom(custom.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const apiFieldError = save.error instanceof ApiError && save.error.status === 400 ? save.error.message : undefined;

  return (
    <section aria-labelledby="export-form-title">
      <h1 id="export-form-title">{existing ? `${t('exports.edit')}: ${existing.name}` : t('exports.add')}</h1>
      <form onSubmit={submit} noValidate>
        <Field label={t('exports.name')} error={errors['name']}>
          {(p) => <input {...p} name="name" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label={t('exports.connection')} error={errors['connectionId']}>
          {(p) => (
            <select {...p} name="connectionId" value={connectionId} onChange={(e) => setConnectionId(e.target.value)}>
              <option value="">{t('exports.chooseConnection')}</option>
              {connections.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.displayName}
                </option>
              ))}
            </select>
          )}
        </Field>
        <fieldset aria-describedby={errors['segmentIds'] ? 'segments-error' : undefined}>
          <legend>{t('exports.segments')}</legend>
          {segments.length === 0 && <p>{t('exports.noSegments')}</p>}
          {segments.map((s) => (
            <label key={s.id} className="block">
              <input
                type="checkbox"
                name="segment"
                value={s.id}
                checked={segmentIds.includes(s.id)}
                onChange={(e) => setSegmentIds(e.target.checked ? [...segmentIds, s.id] : segmentIds.filter((x) => x !== s.id))}
              />{' '}
              {t('exports.segmentLine', {
                name: s.name,
                members: formatNumber(s.memberCount, i18n.language),
                when: formatDateTime(s.refreshedAt, i18n.language),
              })}
            </label>
          ))}
          {errors['segmentIds'] && (
            <p className="error" id="segments-error" role="alert">
              {errors['segmentIds']}
            </p>
          )}
        </fieldset>
        <fieldset>
          <legend>{t('exports.mapping')}</legend>
          <Field label={t('exports.email')} error={errors['mapping.email']}>
            {(p) => <input {...p} name="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
          </Field>
          <Field label={t('exports.firstName')} error={errors['mapping.firstName']}>
            {(p) => <input {...p} name="firstName" value={firstName} onChange={(e) => setFirstName(e.target.value)} />}
          </Field>
          <Field label={t('exports.lastName')} error={errors['mapping.lastName']}>
            {(p) => <input {...p} name="lastName" value={lastName} onChange={(e) => setLastName(e.target.value)} />}
          </Field>
          <h2 className="small">{t('exports.customFields')}</h2>
          {custom.map((c, i) => (
            <div className="row" key={i}>
              <Field label={`${t('exports.attribute')} ${i + 1}`} error={errors[`mapping.custom.${i}.attribute`]}>
                {(p) => <input {...p} value={c.attribute} onChange={(e) => setField(i, { attribute: e.target.value })} />}
              </Field>
              <Field label={`${t('exports.field')} ${i + 1}`} error={errors[`mapping.custom.${i}.field`]}>
                {(p) => <input {...p} value={c.field} onChange={(e) => setField(i, { field: e.target.value })} />}
              </Field>
              <Field label={`${t('exports.type')} ${i + 1}`}>
                {(p) => (
                  <select {...p} value={c.type} onChange={(e) => setField(i, { type: e.target.value as CustomFieldType })}>
                    {FIELD_TYPES.map((type) => (
                      <option key={type} value={type}>
                        {type}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <button type="button" onClick={() => setCustom(custom.filter((_, j) => j !== i))}>
                {t('exports.removeField', { n: i + 1 })}
              </button>
            </div>
          ))}
          <button type="button" onClick={() => setCustom([...custom, { attribute: '', field: '', type: 'string' }])}>
            {t('exports.addField')}
          </button>
        </fieldset>
        <fieldset>
          <legend>{t('exports.limits')}</legend>
          <p id="limit-explanation">{t('exports.limitExplanation')}</p>
          <Field label={t('exports.profileLimit')} error={errors['profileLimit']}>
            {(p) => (
              <input {...p} name="profileLimit" type="number" min={1} max={MAX_PROFILES_PER_RUN} value={profileLimit} onChange={(e) => setProfileLimit(e.target.value)} />
            )}
          </Field>
          <Field label={t('exports.limitPolicy')}>
            {(p) => (
              <select {...p} name="limitPolicy" value={limitPolicy} onChange={(e) => setLimitPolicy(e.target.value as 'skip' | 'truncate')}>
                <option value="skip">{t('exports.skip')}</option>
                <option value="truncate">{t('exports.truncate')}</option>
              </select>
            )}
          </Field>
        </fieldset>
        <Field label={t('exports.syncMode')}>
          {(p) => (
            <select {...p} name="syncMode" value={syncMode} onChange={(e) => setSyncMode(e.target.value as SyncMode)}>
              <option value="mirror">{t('exports.mirror')}</option>
              <option value="upsert">{t('exports.upsert')}</option>
            </select>
          )}
        </Field>
        {syncMode === 'mirror' && (
          <Field label={t('exports.massRemovalPercent')} hint={t('exports.massRemovalHint')} error={errors['massRemovalPercent']}>
            {(p) => (
              <input
                {...p}
                name="massRemovalPercent"
                type="number"
                min={0}
                max={100}
                value={massRemovalPercent}
                onChange={(e) => setMassRemovalPercent(e.target.value)}
              />
            )}
          </Field>
        )}
        {segmentIds.length > 0 && (
          <fieldset>
            <legend>{t('exports.listNames')}</legend>
            {segmentIds.map((sid) => (
              <Field key={sid} label={t('exports.listName', { segment: segments.find((s) => s.id === sid)?.name ?? sid })} hint={t('exports.listNameHint')}>
                {(p) => <input {...p} value={listNames[sid] ?? ''} onChange={(e) => setListNames({ ...listNames, [sid]: e.target.value })} />}
              </Field>
            ))}
          </fieldset>
        )}
        <div className="buttons">
          <button type="submit" disabled={save.isPending}>
            {t('app.save')}
          </button>
          <button type="button" onClick={() => navigate('/exports')}>
            {t('app.cancel')}
          </button>
        </div>
        {apiFieldError ? (
          <p className="error" role="alert">
            {apiFieldError}
          </p>
        ) : (
          <ErrorMessage error={save.error} />
        )}
      </form>
    </section>
  );
}
