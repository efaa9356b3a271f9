import { AppError } from '@export/errors';
import { JwtService } from '@nestjs/jwt';
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';

const Credentials = z.object({
  connectionId: z.string(),
  tenantId: z.string(),
  apiKey: z.string().min(1),
  status: z.enum(['active', 'needs-attention', 'deleted']),
});
export type Credentials = z.infer<typeof Credentials>;

export interface CredentialsClientOptions {
  controlPlaneUrl: string;
  jwtSecret: string;
  cacheMs: number;
  service?: string;
}

/**
 * Reads a connection's API key from the control plane's internal endpoint with a short-lived service
 * token. Keys are cached briefly in memory only. Errors never carry the key or the token.
 * - 404: the connection is gone -> AppError 'not-found' (the run fails CONNECTION_MISSING);
 * - 401/403: our token is refused -> AppError 'forbidden' (configuration problem, not retried by the run);
 * - anything else (5xx, connection refused): AppError 'upstream-unavailable', retried.
 */
export class CredentialsClient {
  private readonly http: AxiosInstance;
  private readonly jwt: JwtService;
  private readonly cache = new Map<string, { value: Credentials; until: number }>();

  constructor(private readonly options: CredentialsClientOptions) {
    this.http = axios.create({
      baseURL: options.controlPlaneUrl.replace(/\/+$/, ''),
      timeout: 5000,
      validateStatus: () => true,
    });
    this.jwt = new JwtService({
      secret: options.jwtSecret,
      signOptions: { algorithm: 'HS256', expiresIn: '5m' },
    });
  }

  async get(connectionId: string, tenantId: string): Promise<Credentials> {
    const cacheKey = `${tenantId}\u0000${connectionId}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.value;
    const token = await this.jwt.signAsync({
      sub: this.options.service ?? 'autopilot-delivery',
      tid: '*',
      role: 'service',
    });
    let response;
    try {
      response = await this.http.get(
        `/internal/v1/connections/${encodeURIComponent(connectionId)}/credentials`,
        {
          params: { tenantId },
          headers: { authorization: `Bearer ${token}` },
        },
      );
    } catch (error) {
      const code = axios.isAxiosError(error) ? error.code : undefined;
      throw new AppError('upstream-unavailable', `Control plane unreachable (${code ?? 'error'})`);
    }
    if (response.status === 404)
      throw new AppError('not-found', `Connection ${connectionId} does not exist (or was deleted)`);
    if (response.status === 401 || response.status === 403) {
      throw new AppError('forbidden', `Control plane refused the service token (${response.status})`);
    }
    if (response.status !== 200)
      throw new AppError('upstream-unavailable', `Control plane answered ${response.status}`);
    const parsed = Credentials.safeParse(response.data);
    if (!parsed.success)
      throw new AppError(
        'upstream-unavailable',
        'Control plane answered with an unexpected credentials body',
      );
    this.cache.set(cacheKey, { value: parsed.data, until: Date.now() + this.options.cacheMs });
    return parsed.data;
  }

  /** Forgets a cached key (after Autopilot rejected it: the admin may have replaced it). */
  forget(connectionId: string, tenantId: string): void {
    this.cache.delete(`${tenantId}\u0000${connectionId}`);
  }
}
