import { AppError } from '@export/errors';
import axios, { type AxiosInstance } from 'axios';

/**
 * Checks an API key with Autopilot's `GET /account` before a connection is saved. Errors never carry the
 * key or the request config (axios puts headers there), only Autopilot's own message. Redirects are never
 * followed: a 3xx is an upstream failure, so the key goes only to the configured `AUTOPILOT_BASE_URL`.
 */
export class AutopilotAccountClient {
  private readonly http: AxiosInstance;

  constructor(baseUrl: string, timeoutMs: number) {
    this.http = axios.create({
      baseURL: baseUrl.replace(/\/+$/, ''),
      timeout: timeoutMs,
      // A redirect could carry the key to a host nobody checked: never follow one (see verifyKey).
      maxRedirects: 0,
      validateStatus: () => true,
    });
  }

  async verifyKey(apiKey: string): Promise<void> {
    let response;
    try {
      response = await this.http.get<unknown>('/account', {
        headers: { autopilotapikey: apiKey, accept: 'application/json' },
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'network error';
      throw new AppError(
        'upstream-unavailable',
        `Autopilot could not be reached to check the API key (${code})`,
      );
    }
    if (response.status >= 200 && response.status < 300) return;
    if (response.status >= 300 && response.status < 400) {
      throw new AppError(
        'upstream-unavailable',
        `Autopilot answered with a redirect (HTTP ${response.status}) to the API key check; redirects are not followed`,
      );
    }
    if (response.status >= 500 || response.status === 429) {
      throw new AppError(
        'upstream-unavailable',
        `Autopilot is unavailable (HTTP ${response.status}); try again later`,
      );
    }
    const body = response.data as { message?: unknown; error?: unknown } | undefined;
    const message =
      typeof body?.message === 'string' ? body.message : typeof body?.error === 'string' ? body.error : '';
    // Never echo the key back, even if Autopilot's message quoted it.
    const safe = (message || `HTTP ${response.status}`).split(apiKey).join('[redacted]');
    throw new AppError('upstream-rejected', `Autopilot rejected the API key: ${safe}`, {
      field: 'apiKey',
    });
  }
}
