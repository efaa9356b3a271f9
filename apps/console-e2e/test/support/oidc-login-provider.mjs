// A real OpenID Connect provider (the certified `oidc-provider` package) for the console's sign-in test, run as a
// child process: one public client (the console) with the authorization code flow and PKCE, oidc-provider's
// own development login and consent pages (any user name signs in), and JWT access tokens for one resource
// carrying the tenant and role of the user.
//
// Input: OIDC_LOGIN_PROVIDER, JSON: { clientId, redirectUri, postLogoutRedirectUri, resource,
//   users: { <login>: { tid, role } } }
// Output: one line on stdout once it listens: {"ready":true,"issuer":"http://127.0.0.1:<port>"}.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const settings = JSON.parse(process.env.OIDC_LOGIN_PROVIDER ?? '{}');
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: settings.clientId,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [settings.redirectUri],
      post_logout_redirect_uris: [settings.postLogoutRedirectUri],
      token_endpoint_auth_method: 'none',
    },
  ],
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => settings.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: settings.resource,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: (_ctx, token) => settings.users[token.accountId] ?? {},
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
