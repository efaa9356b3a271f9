import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { z } from 'zod';
import { api } from '../api/client';
import { keys, useQuota } from '../api/hooks';
import type { Quota, QuotaDay } from '../api/types';
import { can } from '../auth/session';
import { useSignedIn } from '../auth/session-context';
import { ErrorMessage, Field, formatNumber, Loading, Notice } from '../components/ui';

const QuotaForm = z.object({ profilesPerMonth: z.number().int().min(0).max(1_000_000_000) });

export function QuotaPage() {
  const { t, i18n } = useTranslation();
  const session = useSignedIn();
  // Operators may look at any tenant; everyone else sees their own.
  const [tenant, setTenant] = useState(session.tenant);
  const quota = useQuota(tenant);
  const n = (v: number | null | undefined) => formatNumber(v, i18n.language);
  return (
    <section aria-labelledby="quota-title">
      <h1 id="quota-title">{t('quota.title', { month: quota.data?.month ?? '' })}</h1>
      {can.setQuota(session) && (
        <Field label={t('quota.tenant')}>
          {(p) => <input {...p} name="tenant" defaultValue={tenant} onBlur={(e) => e.target.value.trim() && setTenant(e.target.value.trim())} />}
        </Field>
      )}
      {quota.isPending ? (
        <Loading />
      ) : quota.isError ? (
        <ErrorMessage error={quota.error} />
      ) : (
        <>
          <dl className="facts">
            <dt>{t('quota.limit')}</dt>
            <dd data-quota="limit">{quota.data.profilesPerMonth === null ? t('quota.unlimited') : n(quota.data.profilesPerMonth)}</dd>
            <dt>{t('quota.used')}</dt>
            <dd data-quota="used">{n(quota.data.used)}</dd>
            <dt>{t('quota.remaining')}</dt>
            <dd data-quota="remaining">{quota.data.remaining === null ? '—' : n(quota.data.remaining)}</dd>
          </dl>
          {quota.data.days && <DayChart days={quota.data.days} />}
          {can.setQuota(session) && <SetQuota quota={quota.data} />}
        </>
      )}
    </section>
  );
}

/**
 * Profiles used per day as an SVG bar chart, with the same figures in a table for screen readers. A chart
 * library would weigh more than the whole console for thirty bars.
 */
function DayChart({ days }: { days: QuotaDay[] }) {
  const { t, i18n } = useTranslation();
  const max = Math.max(1, ...days.map((d) => d.used));
  const width = 31 * 14;
  const height = 120;
  return (
    <figure>
      <figcaption>{t('quota.perDay')}</figcaption>
      <svg role="img" aria-label={t('quota.chartLabel')} viewBox={`0 0 ${width} ${height + 16}`} className="chart">
        {days.map((d, i) => {
          const h = Math.round((Math.max(0, d.used) / max) * height);
          return (
            <g key={d.date}>
              <rect x={i * 14 + 2} y={height - h} width={10} height={h} className="bar">
                <title>{`${d.date}: ${formatNumber(d.used, i18n.language)}`}</title>
              </rect>
              {(i === 0 || (i + 1) % 5 === 0) && (
                <text x={i * 14 + 7} y={height + 12} textAnchor="middle" className="axis">
                  {Number(d.date.slice(8))}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <details>
        <summary>{t('quota.perDay')}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('quota.day')}</th>
              <th scope="col">{t('quota.used')}</th>
              <th scope="col">{t('quota.total')}</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.date}>
                <td>{d.date}</td>
                <td>{formatNumber(d.used, i18n.language)}</td>
                <td>{formatNumber(d.total, i18n.language)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

function SetQuota({ quota }: { quota: Quota }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [value, setValue] = useState(quota.profilesPerMonth === null ? '' : String(quota.profilesPerMonth));
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: (body: unknown) => api<Quota>('PUT', `/v1/tenants/${encodeURIComponent(quota.tenantId)}/quota`, body),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.quota(quota.tenantId) }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = QuotaForm.safeParse({ profilesPerMonth: value === '' ? NaN : Number(value) });
    if (!parsed.success) return setError(parsed.error.issues[0]?.message);
    setError(undefined);
    save.mutate(parsed.data);
  };
  return (
    <form onSubmit={submit} noValidate className="panel">
      <Field label={t('quota.limit')} error={error}>
        {(p) => <input {...p} name="profilesPerMonth" type="number" min={0} value={value} onChange={(e) => setValue(e.target.value)} />}
      </Field>
      <button type="submit" disabled={save.isPending}>
        {t('quota.set')}
      </button>
      {save.isSuccess && <Notice>{t('quota.saved')}</Notice>}
      <ErrorMessage error={save.error} />
    </form>
  );
}
