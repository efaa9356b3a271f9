import { AppError } from '@export/errors';
import { signServiceToken, SERVICE_TOKEN_TTL_SECONDS } from '@export/service-auth';
import axios, { type AxiosInstance } from 'axios';
import type { Logger } from 'pino';

export interface ControlPlaneClientOptions {
  /** The control plane's internal listener. */
  url: string;
  /** INTERNAL_AUTH_SECRET: signs our service tokens. */
  secret: string;
  timeoutMs: number;
  logger: Logger;
  service?: string;
}

export interface ControlPlaneAnswer {
  status: number;
  data: unknown;
}

/** A run id nobody uses: probing with it exercises the network, our token and the control plane's database. */
const PROBE_RUN_ID = '00000000-0000-4000-8000-000000000000';

/**
 * HTTP to the control plane's internal listener, with a short-lived service token. It answers what the
 * control plane said (any 2xx/4xx but 401/403), or throws AppError 'upstream-unavailable' when it could not
 * get a definite answer: unreachable, timed out, 5xx, or our token refused (a configuration fault, so
 * nothing is concluded from it). It remembers whether the control plane is up, so consumers pause while
 * it is down (see `isUp`).
 */
export class ControlPlaneClient {
  private readonly http: AxiosInstance;
  private token?: { value: string; until: number };
  private down = false;

  constructor(private readonly options: ControlPlaneClientOptions) {
    this.http = axios.create({
      baseURL: options.url.replace(/\/+$/, ''),
      timeout: options.timeoutMs,
      validateStatus: () => true,
      maxRedirects: 0,
    });
  }

  async get(path: string, params: Record<string, string>): Promise<ControlPlaneAnswer> {
    let response;
    try {
      response = await this.http.get(path, {
        params,
        headers: { authorization: `Bearer ${await this.serviceToken()}` },
      });
    } catch (error) {
      const code = axios.isAxiosError(error) ? error.code : undefined;
      throw this.unavailable(`Control plane unreachable (${code ?? 'error'})`);
    }
    if (response.status === 401 || response.status === 403)
      throw this.unavailable(
        `Control plane refused our service token (${response.status}): check INTERNAL_AUTH_SECRET`,
      );
    if (response.status >= 500) throw this.unavailable(`Control plane answered ${response.status}`);
    if (this.down) {
      this.down = false;
      this.options.logger.info('control plane answers again');
    }
    return { status: response.status, data: response.data };
  }

  /**
   * For the consumers' dependency watchdog: true while the last call got a definite answer; once one did
   * not, true again only when a probe gets one (an unknown run of a made-up tenant must answer 404).
   */
  async isUp(): Promise<boolean> {
    if (!this.down) return true;
    try {
      const { status } = await this.get(`/internal/v1/runs/${PROBE_RUN_ID}`, { tenantId: 'probe' });
      return status === 404;
    } catch {
      return false;
    }
  }

  private unavailable(message: string): AppError {
    if (!this.down) this.options.logger.warn({ reason: message }, 'control plane unavailable');
    this.down = true;
    return new AppError('upstream-unavailable', message);
  }

  /** Tokens live 60 s; one is reused for up to half of that. */
  private async serviceToken(): Promise<string> {
    const now = Date.now();
    if (this.token && this.token.until > now) return this.token.value;
    const value = await signServiceToken(this.options.secret, this.options.service ?? 'autopilot-delivery');
    this.token = { value, until: now + (SERVICE_TOKEN_TTL_SECONDS * 1000) / 2 };
    return value;
  }
}
