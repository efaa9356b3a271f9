import { randomUUID } from 'node:crypto';

/** A contact as the Autopilot simulator's control API shows it. */
export interface SimContact {
  email: string;
  fields: Record<string, unknown>;
  lists: string[];
  upserts: number;
  unsubscribed: boolean;
}

export interface SimulatorTenant {
  tenantId: string;
  connectionId: string;
  apiKey: string;
  /** The simulator's account of the key. */
  account: string;
  /** What the simulator holds for the account (up to 10,000 contacts). */
  contacts(): Promise<SimContact[]>;
  /** Requests the key has made so far. */
  requests(): Promise<number>;
}

async function simulator<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * A tenant with its own connection and Autopilot account: a fresh key registered in the simulator at
 * `simulatorUrl`, and the connection put in `connections` (a stub control plane's, which hands the key to
 * the service under test).
 */
export async function createSimulatorTenant(
  simulatorUrl: string,
  connections: { set(connectionId: string, connection: { tenantId: string; apiKey: string; status: 'active' }): unknown },
): Promise<SimulatorTenant> {
  const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
  const [tenantId, connectionId, account] = [id('tenant'), id('conn'), id('account')];
  const apiKey = `key-${randomUUID()}`;
  await simulator(`${simulatorUrl}/__sim/keys`, { method: 'POST', body: JSON.stringify({ key: apiKey, account }) });
  connections.set(connectionId, { tenantId, apiKey, status: 'active' });
  return {
    tenantId,
    connectionId,
    apiKey,
    account,
    contacts: async () =>
      (await simulator<{ contacts: SimContact[] }>(`${simulatorUrl}/__sim/contacts?account=${encodeURIComponent(account)}&limit=10000`))
        .contacts,
    requests: async () =>
      (await simulator<{ keys: Record<string, { requests: number } | undefined> }>(`${simulatorUrl}/__sim/stats`)).keys[apiKey]
        ?.requests ?? 0,
  };
}
