/** An API key and the account whose data it reads and writes. */
export interface ApiKeySpec {
  key: string;
  account: string;
}

export interface ApiKeyEntry extends ApiKeySpec {
  revoked: boolean;
}

/**
 * Parses `"key1,key2:acme,key3:acme"`: a key alone is its own account; `key:account` lets two keys
 * share one account's contacts and lists.
 */
export function parseApiKeys(spec: string): ApiKeySpec[] {
  return spec
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(toApiKeySpec);
}

export function toApiKeySpec(value: string | ApiKeySpec): ApiKeySpec {
  if (typeof value !== 'string') return { key: value.key, account: value.account || value.key };
  const colon = value.indexOf(':');
  if (colon < 0) return { key: value, account: value };
  const key = value.slice(0, colon).trim();
  const account = value.slice(colon + 1).trim();
  return { key, account: account || key };
}

/** The valid keys; a revoked key stays known (and visible in stats) but answers 401. */
export class KeyRegistry {
  private entries = new Map<string, ApiKeyEntry>();

  constructor(private readonly initial: ApiKeySpec[]) {
    this.reset();
  }

  /** Adds the key, or re-enables it (optionally moving it to another account) when it is known. */
  add(key: string, account?: string): ApiKeyEntry {
    const existing = this.entries.get(key);
    const entry: ApiKeyEntry = { key, account: account || existing?.account || key, revoked: false };
    this.entries.set(key, entry);
    return entry;
  }

  /** @returns false when the key was never known */
  revoke(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    entry.revoked = true;
    return true;
  }

  get(key: string): ApiKeyEntry | undefined {
    return this.entries.get(key);
  }

  list(): ApiKeyEntry[] {
    return [...this.entries.values()].map((entry) => ({ ...entry }));
  }

  /** Back to the keys given at start, none revoked. */
  reset(): void {
    this.entries = new Map(this.initial.map((spec) => [spec.key, { ...spec, revoked: false }]));
  }
}
