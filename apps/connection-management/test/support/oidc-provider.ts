import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { join } from 'node:path';

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
  const child = spawn(process.execPath, [LAUNCHER], {
    env: { ...process.env, OIDC_TEST_PROVIDER: JSON.stringify({ ...settings, port }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errorOutput = '';
  child.stderr?.on('data', (chunk) => (errorOutput += chunk));
  const issuer = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`oidc-provider did not start:\n${errorOutput}`)), 20000);
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const line = output.split('\n').find((l) => l.includes('"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { issuer: string }).issuer);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`oidc-provider exited with ${code}:\n${errorOutput}`));
    });
  });
  return { child, issuer };
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
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
      await terminate(child);
      settings = { ...settings, ...changes };
      ({ child } = await launch(settings, port));
    },
    stop: () => terminate(child),
  };
}
