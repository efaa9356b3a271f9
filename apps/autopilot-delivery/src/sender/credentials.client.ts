import { AppError } from '@export/errors';
import { z } from 'zod';
import type { ControlPlaneClient } from '../control-plane/control-plane.client';

const Credentials = z.object({
  connectionId: z.string(),
  tenantId: z.string(),
  apiKey: z.string().min(1),
  status: z.enum(['active', 'needs-attention', 'deleted']),
  /** Grows each time the key is saved and passes Autopilot's check: a key dead at an older version is alive again. */
  keyVersion: z.number().int().min(1).default(1),
});
export type Credentials = z.infer<typeof Credentials>;

/**
 * Reads a connection's API key from the control plane's internal listener, for one run (the control plane
 * hands it out only for an active run of that tenant and connection, and audits it). Keys are cached briefly
 * in memory only. Errors never carry the key or the token.
 * - 404: the connection (or the run) is gone -> AppError 'not-found' (the run fails CONNECTION_MISSING);
 * - 409: the control plane no longer confirms the run (ended, or not of this connection) -> 'conflict';
 * - unreachable, 5xx, our token refused: AppError 'upstream-unavailable' (ControlPlaneClient), retried.
 */
export class CredentialsClient {
  private readonly cache = new Map<string, { value: Credentials; until: number }>();

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    private readonly cacheMs: number,
  ) {}

  async get(connectionId: string, tenantId: string, runId: string): Promise<Credentials> {
    const cacheKey = `${tenantId}\u0000${connectionId}\u0000${runId}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.value;
    const { status, data } = await this.controlPlane.get(
      `/internal/v1/connections/${encodeURIComponent(connectionId)}/credentials`,
      { tenantId, runId },
    );
    const message = (data as { message?: unknown } | undefined)?.message;
    const said = typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
    if (status === 404)
      throw new AppError('not-found', `Connection ${connectionId} does not exist (or was deleted)${said}`);
    if (status === 409) throw new AppError('conflict', `The control plane no longer confirms the run${said}`);
    if (status !== 200) throw new AppError('upstream-unavailable', `Control plane answered ${status}`);
    const parsed = Credentials.safeParse(data);
    if (!parsed.success)
      throw new AppError(
        'upstream-unavailable',
        'Control plane answered with an unexpected credentials body',
      );
    this.cache.set(cacheKey, { value: parsed.data, until: Date.now() + this.cacheMs });
    return parsed.data;
  }

  /** Forgets a cached key (after Autopilot rejected it: the admin may have replaced it). */
  forget(connectionId: string, tenantId: string): void {
    const prefix = `${tenantId}\u0000${connectionId}\u0000`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }
}
