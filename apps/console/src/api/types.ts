import type { ConsoleSignIn } from '@export/contracts';

/** What the control plane answers (PRODUCT.md, REST API); runs and exports: libs/contracts (RunView, ExportView). */
export type Role = 'admin' | 'contributor' | 'operator';

export interface Connection {
  id: string;
  displayName: string;
  type: 'autopilot';
  allowContributors: boolean;
  apiKeyLast4: string;
  status: string;
  exportUsers: string[];
  createdAt: string;
}

export interface Segment {
  id: string;
  name: string;
  memberCount: number;
  refreshedAt: string;
}

/** The run's reason when a mirror run held its removals (it succeeded, removing nothing). */
export const MASS_REMOVAL_HELD = 'MASS_REMOVAL_HELD';

export interface QuotaDay {
  date: string;
  used: number;
  total: number;
}

export interface Quota {
  tenantId: string;
  profilesPerMonth: number | null;
  month: string;
  used: number;
  remaining: number | null;
  days?: QuotaDay[];
}

/** How the console signs in (GET /v1/console/config). */
export type SignInSettings = ConsoleSignIn;
