import { AppError } from '@export/errors';
import axios, { type AxiosInstance } from 'axios';

/**
 * Checks an API key with Autopilot's `GET /account` before a connection is saved. Errors never carry the
 * key or the request config (axios puts headers there), only Autopilot's own message.
 */
export class AutopilotAccountClient {
  private readonly http: AxiosInstance;

  constructor(baseUrl: string, timeoutMs: number) {
    this.http = axios.create({
      baseURL: baseUrl.replace(/\/+$/, ''),
      timeout: timeoutMs,
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
