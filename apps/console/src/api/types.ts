import type { ConsoleSignIn } from '@export/contracts';

/** What the control plane answers (PRODUCT.md, REST API). */
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

export interface CustomField {
  attribute: string;
  field: string;
  type: 'string' | 'integer' | 'float' | 'date' | 'boolean';
}

export interface Mapping {
  email: string;
  firstName?: string;
  lastName?: string;
  custom?: CustomField[];
}

export type SyncMode = 'mirror' | 'upsert';

export interface Export {
  id: string;
  name: string;
  connectionId: string | null;
  state: 'ready' | 'no-connection';
  segmentIds: string[];
  mapping: Mapping;
  limitPolicy: 'skip' | 'truncate';
  profileLimit: number;
  listNames: Record<string, string>;
  syncMode: SyncMode;
  /** A run removing more than this share (percent) of a list removes nothing (MASS_REMOVAL_HELD). */
  massRemovalPercent: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface Segment {
  id: string;
  name: string;
  memberCount: number;
  refreshedAt: string;
}

export type RunPhase = 'queued' | 'extracting' | 'staging' | 'sending' | 'removing' | 'finished';

/** The run's reason when a mirror run held its removals (it succeeded, removing nothing). */
export const MASS_REMOVAL_HELD = 'MASS_REMOVAL_HELD';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'canceled';
export const ACTIVE_STATUSES: RunStatus[] = ['queued', 'running'];

export interface RunCounts {
  extracted: number;
  rejected: number;
  duplicates: number;
  eligible: number;
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  delivered: number;
  failed: number;
  overLimit: number;
  overQuota: number;
}

export interface Run {
  id: string;
  exportId: string;
  status: RunStatus;
  trigger: 'segment-refresh' | 'on-demand';
  reason?: string;
  message?: string;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  counts: RunCounts;
  dryRun: boolean;
  fullResync: boolean;
  confirmRemovals: boolean;
  phase: RunPhase;
  /** Of the current phase. */
  progress: { done: number; total: number };
}

export interface Rejection {
  segmentId: string;
  partition: string;
  line: number;
  profileId?: string | null;
  stage: string;
  reason: string;
}

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
