import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { api } from './api/client';
import type { SignInSettings } from './api/types';
import { can } from './auth/session';
import { SessionProvider, useSession } from './auth/session-context';
import { ErrorMessage, Loading } from './components/ui';
import { LANGUAGES, setLanguage, type Language } from './i18n';
import { ConnectionsPage } from './pages/connections-page';
import { ExportFormPage } from './pages/export-form-page';
import { ExportsPage } from './pages/exports-page';
import { QuotaPage } from './pages/quota-page';
import { RunPage } from './pages/run-page';
import { RunsPage } from './pages/runs-page';
import { OidcCallback, SignInPage } from './pages/sign-in-page';

export function App() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}

function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="language">
      {t('app.language')}{' '}
      <select value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)}>
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option key={code} value={code} lang={code}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

function Shell() {
  const { t } = useTranslation();
  const { session, signOut } = useSession();
  const settings = useQuery({
    queryKey: ['console-config'],
    queryFn: () => api<SignInSettings>('GET', '/v1/console/config'),
    staleTime: Infinity,
  });
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header>
        <span className="brand">{t('app.title')}</span>
        {session && (
          <nav aria-label={t('app.nav')}>
            {session.role !== 'operator' && <NavLink to="/connections">{t('app.connections')}</NavLink>}
            {session.role !== 'operator' && <NavLink to="/exports">{t('app.exports')}</NavLink>}
            <NavLink to="/quota">{t('app.quota')}</NavLink>
          </nav>
        )}
        <LanguageSwitch />
        {session && (
          <span className="who">
            {t('app.signedInAs', { user: session.user, role: t(`roles.${session.role}`), tenant: session.tenant })}{' '}
            <button type="button" onClick={signOut}>
              {t('app.signOut')}
            </button>
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {settings.isPending ? (
          <Loading />
        ) : settings.isError ? (
          <ErrorMessage error={settings.error} />
        ) : !session ? (
          <Routes>
            <Route path="/callback" element={<OidcCallback settings={settings.data} />} />
            <Route path="*" element={<SignInPage settings={settings.data} />} />
          </Routes>
        ) : (
          <Routes>
            <Route path="/" element={<Navigate to={can.setQuota(session) ? '/quota' : '/connections'} replace />} />
            <Route path="/callback" element={<Navigate to="/" replace />} />
            <Route path="/connections" element={<ConnectionsPage />} />
            <Route path="/exports" element={<ExportsPage />} />
            <Route path="/exports/new" element={<ExportFormPage />} />
            <Route path="/exports/:id/edit" element={<ExportFormPage />} />
            <Route path="/exports/:id/runs" element={<RunsPage />} />
            <Route path="/runs/:runId" element={<RunPage />} />
            <Route path="/quota" element={<QuotaPage />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
        )}
      </main>
    </>
  );
}
