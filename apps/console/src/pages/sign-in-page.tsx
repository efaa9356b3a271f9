import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../api/client';
import type { Role, SignInSettings } from '../api/types';
import { completeOidcSignIn, startOidcSignIn } from '../auth/oidc';
import { sessionFromToken } from '../auth/session';
import { useSession } from '../auth/session-context';
import { ErrorMessage, Field, Notice } from '../components/ui';

export function SignInPage({ settings }: { settings: SignInSettings }) {
  const { t } = useTranslation();
  const { signIn } = useSession();
  const [tenant, setTenant] = useState('');
  const [user, setUser] = useState('');
  const [role, setRole] = useState<Role>('admin');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (settings.signIn === 'unavailable')
    return <ErrorMessage error={new Error(t('signIn.unavailable', { reason: settings.reason }))} />;

  if (settings.signIn === 'oidc')
    return (
      <section aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{t('signIn.title')}</h1>
        <button type="button" onClick={() => startOidcSignIn(settings).catch(setError)}>
          {t('signIn.oidc')}
        </button>
        <ErrorMessage error={error} />
      </section>
    );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { token } = await api<{ token: string }>('POST', '/v1/console/dev-token', { tenant, user, role });
      signIn(sessionFromToken(token));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{t('signIn.title')}</h1>
      <Notice>{t('signIn.devNotice')}</Notice>
      <form onSubmit={submit}>
        <Field label={t('signIn.tenant')}>
          {(p) => <input {...p} name="tenant" required autoComplete="organization" value={tenant} onChange={(e) => setTenant(e.target.value)} />}
        </Field>
        <Field label={t('signIn.user')}>
          {(p) => <input {...p} name="user" required autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} />}
        </Field>
        <Field label={t('signIn.role')}>
          {(p) => (
            <select {...p} name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {(['admin', 'contributor', 'operator'] as const).map((r) => (
                <option key={r} value={r}>
                  {t(`roles.${r}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" disabled={busy}>
          {t('signIn.submit')}
        </button>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}

/** The issuer redirects here with the authorization code. */
export function OidcCallback({ settings }: { settings: SignInSettings }) {
  const { t } = useTranslation();
  const { signIn } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const started = useRef(false);
  useEffect(() => {
    if (settings.signIn !== 'oidc' || started.current) return;
    started.current = true;
    completeOidcSignIn(settings)
      .then((token) => {
        signIn(sessionFromToken(token, { tenant: settings.tenantClaim, role: settings.roleClaim }));
        navigate('/', { replace: true });
      })
      .catch(setError);
  }, [settings, signIn, navigate]);
  return error ? <ErrorMessage error={error} /> : <p role="status">{t('signIn.completing')}</p>;
}
