// A real OpenID Connect provider (the certified `oidc-provider` package) for the tests, run as a child
// process: it issues JWT access tokens by the client_credentials grant for the resource indicators it is
// told about, signed with the keys it is given, with `tid`/`role` (or other) claims per client.
//
// Input: the environment variable OIDC_TEST_PROVIDER, JSON:
//   { port: number (0 = any free port), keys: [private JWK, ...] (its JWKS publishes them all),
//     signingAlg: 'RS256' | 'ES256', resources: [resource indicator URI, ...],
//     clients: [{ clientId, clientSecret, claims: {...}, accessTokenTTL?: seconds }] }
// Output: one line on stdout once it listens: {"ready":true,"issuer":"http://127.0.0.1:<port>"}.
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const settings = JSON.parse(process.env.OIDC_TEST_PROVIDER ?? '{}');
const clients = new Map(settings.clients.map((client) => [client.clientId, client]));

const server = createServer();
await new Promise((resolve) => server.listen(settings.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: settings.clients.map((client) => ({
    client_id: client.clientId,
    client_secret: client.clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
  })),
  jwks: { keys: settings.keys },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => settings.resources[0],
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource, client) => {
        if (!settings.resources.includes(resource)) throw new errors.InvalidTarget();
        return {
          scope: 'api',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: clients.get(client.clientId)?.accessTokenTTL ?? 300,
          jwt: { sign: { alg: settings.signingAlg ?? 'RS256' } },
        };
      },
    },
  },
  extraTokenClaims: (_ctx, token) => clients.get(token.clientId)?.claims,
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
