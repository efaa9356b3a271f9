/**
 * GET /v1/console/config: how the web console signs in, told by the control plane before anyone has.
 * Shared so the console and the control plane cannot disagree about it.
 */
export type ConsoleSignIn =
  | { signIn: 'development' }
  | {
      signIn: 'oidc';
      issuer: string;
      clientId: string;
      scope: string;
      audience?: string;
      /** Where the console reads tenant and role for display (the API reads them itself). */
      tenantClaim: string;
      roleClaim: string;
    }
  | { signIn: 'unavailable'; reason: string };
