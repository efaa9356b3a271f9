/** A small JSON client of the control plane's REST API, for tests, the demo and the benchmarks. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Any answer, with its status, for tests that check error paths. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; raw: string }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const raw = await response.text();
    return { status: response.status, body: (raw ? JSON.parse(raw) : undefined) as T, raw };
  }

  /** The body of a successful answer; anything else throws with the status and the body. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.call<T>(method, path, body);
    if (answer.status >= 400) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.raw}`);
    return answer.body;
  }
}
