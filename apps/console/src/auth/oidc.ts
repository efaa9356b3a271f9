import type { UserManager } from 'oidc-client-ts';
import type { SignInSettings } from '../api/types';

type OidcSettings = Extract<SignInSettings, { signIn: 'oidc' }>;

// oidc-client-ts is loaded only when an issuer is configured: development sign-in never downloads it.
async function manager(settings: OidcSettings): Promise<UserManager> {
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  return new UserManager({
    authority: settings.issuer,
    client_id: settings.clientId,
    redirect_uri: `${window.location.origin}/callback`,
    post_logout_redirect_uri: `${window.location.origin}/`,
    response_type: 'code',
    scope: settings.scope,
    ...(settings.audience ? { extraQueryParams: { resource: settings.audience, audience: settings.audience } } : {}),
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
  });
}

/** Authorization code with PKCE (oidc-client-ts makes the verifier and the challenge). */
export async function startOidcSignIn(settings: OidcSettings): Promise<void> {
  await (await manager(settings)).signinRedirect();
}

/** Back from the issuer: exchanges the code for tokens; the API takes the access token. */
export async function completeOidcSignIn(settings: OidcSettings): Promise<string> {
  const user = await (await manager(settings)).signinRedirectCallback();
  return user.access_token;
}
