import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { join } from 'node:path';
import { startReadyChild, stopChild } from '@export/testing';

const LAUNCHER = join(__dirname, 'oidc-provider.mjs');

export interface OidcClient {
  clientId: string;
  clientSecret: string;
  /** Extra claims of its access tokens (e.g. `{ tid, role }`). */
  claims: Record<string, unknown>;
  /** Lifetime of its access tokens in seconds (default 300). */
  accessTokenTTL?: number;
}

export interface OidcProviderSettings {
  /** Private JWKs; the provider's JWKS publishes their public halves. */
  keys: JsonWebKey[];
  signingAlg: 'RS256' | 'ES256';
  /** Resource indicators it issues access tokens for (the first is the default). */
  resources: string[];
  clients: OidcClient[];
}

export interface TestOidcProvider {
  issuer: string;
  jwksUrl: string;
  settings: OidcProviderSettings;
  /** An access token of `clientId` by the client_credentials grant, for `resource` (default: the first). */
  token(clientId: string, resource?: string): Promise<string>;
  /** Stops the provider and starts it again on the same port with changed settings (key rotation). */
  restart(changes: Partial<OidcProviderSettings>): Promise<void>;
  stop(): Promise<void>;
}

/** A private signing key as a JWK with its kid and algorithm. */
export function signingKey(alg: 'RS256' | 'ES256', kid: string): JsonWebKey {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

async function launch(
  settings: OidcProviderSettings,
  port: number,
): Promise<{ child: ChildProcess; issuer: string }> {
  const { child, ready } = await startReadyChild<{ ready: true; issuer: string }>(
    LAUNCHER,
    { OIDC_TEST_PROVIDER: JSON.stringify({ ...settings, port }) },
    20000,
  );
  return { child, issuer: ready.issuer };
}

/** Starts the `oidc-provider` package as a child process on a free loopback port. */
export async function startOidcProvider(initial: OidcProviderSettings): Promise<TestOidcProvider> {
  let settings = initial;
  const started = await launch(settings, 0);
  const { issuer } = started;
  let { child } = started;
  const port = Number(new URL(issuer).port);
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    get settings() {
      return settings;
    },
    async token(clientId, resource = settings.resources[0]) {
      const client = settings.clients.find((c) => c.clientId === clientId);
      if (!client) throw new Error(`no client ${clientId}`);
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          resource,
        }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || !body.access_token)
        throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async restart(changes) {
      await stopChild(child);
      settings = { ...settings, ...changes };
      ({ child } = await launch(settings, port));
    },
    stop: () => stopChild(child),
  };
}
