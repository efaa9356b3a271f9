import axios, { type AxiosInstance } from 'axios';

/** An answer of the API other than 2xx, with the API's error body ({statusCode, error, message, field?}). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string; field?: string } | undefined,
  ) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

/** A failure the user can act on (bad flag, unreachable API), printed without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Api {
  request<T = unknown>(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T>;
}

export function createApi(baseUrl: string, token: string | undefined): Api {
  const http: AxiosInstance = axios.create({
    baseURL: baseUrl.replace(/\/+$/, ''),
    timeout: 30000,
    validateStatus: () => true,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      let response;
      try {
        response = await http.request({ method, url: path, data: body });
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        throw new CliError(`cannot reach the API at ${baseUrl} (${code})`);
      }
      if (response.status >= 400) {
        const data = typeof response.data === 'object' && response.data !== null ? response.data : undefined;
        throw new ApiError(response.status, data);
      }
      return response.data as T;
    },
  };
}
