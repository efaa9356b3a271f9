import type { Role } from '../api/types';

/** Who is signed in, as the console shows it. The API still decides every call from the token itself. */
export interface Session {
  token: string;
  tenant: string;
  user: string;
  role: Role;
  expiresAt: number;
}

const KEY = 'console.session';

function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  return JSON.parse(json) as Record<string, unknown>;
}

/** Reads tenant, user and role from a token's claims (for display and for hiding what the API would refuse). */
export function sessionFromToken(token: string, claims = { tenant: 'tid', role: 'role' }): Session {
  const c = decodeClaims(token);
  const role = c[claims.role];
  return {
    token,
    tenant: String(c[claims.tenant] ?? ''),
    user: String(c['sub'] ?? ''),
    role: role === 'admin' || role === 'operator' ? role : 'contributor',
    expiresAt: typeof c['exp'] === 'number' ? c['exp'] * 1000 : Date.now() + 60_000,
  };
}

// Session storage: the token lives as long as the tab, never in localStorage shared by every tab and kept for good.
export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    return s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

/** What each role may do, mirroring the API's rules so the console hides what would be refused. */
export const can = {
  manageConnections: (s: Session) => s.role === 'admin',
  setUpExports: (s: Session) => s.role === 'admin' || s.role === 'contributor',
  setQuota: (s: Session) => s.role === 'operator',
};
