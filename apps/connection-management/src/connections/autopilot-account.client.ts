import { AutopilotClient, AutopilotError } from '@export/autopilot-client';
import { AppError } from '@export/errors';

/**
 * Checks an API key with Autopilot's `GET /account` (libs/autopilot-client: no redirect followed, errors
 * without the key or the request) before a connection is saved. A refused key is an error of the request's
 * `apiKey` field (422); an unreachable or failing Autopilot is upstream-unavailable (502).
 */
export class AutopilotAccountClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async verifyKey(apiKey: string): Promise<void> {
    try {
      await new AutopilotClient({ baseUrl: this.baseUrl, apiKey, timeoutMs: this.timeoutMs }).getAccount();
    } catch (error) {
      if (error instanceof AutopilotError && error.kind === 'upstream-rejected') {
        throw new AppError('upstream-rejected', error.message, { field: 'apiKey', code: error.failure });
      }
      throw error;
    }
  }
}
