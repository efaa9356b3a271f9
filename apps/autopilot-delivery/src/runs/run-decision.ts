import {
  MAX_PROFILES_PER_RUN,
  type DeliveryCounts,
  type LimitPolicy,
  type SkipReason,
} from '@export/contracts';

export interface DecisionInput {
  /** Rows the mapping delivered (duplicates included). */
  mapped: number;
  /** Distinct normalised e-mails. */
  unique: number;
  profileLimit: number;
  limitPolicy: LimitPolicy;
  /** Monthly quota; null = none. */
  quotaPerMonth: number | null;
  /** Already used (reserved) this month by the tenant. */
  quotaUsed: number;
  /** Staging stopped early (a skip run certain to be skipped): `unique` is a lower bound. */
  partial?: boolean;
  /**
   * Contacts among the first `min(unique, limit)` that are sent (added or updated): only they count against the
   * quota. Absent: all of them (a full send).
   */
  changed?: number;
}

export type Decision =
  | { action: 'skip'; reason: SkipReason; message: string; counts: DeliveryCounts }
  | {
      action: 'deliver';
      /**
       * Within the limit: `eligible` contacts (sent or unchanged), then `overQuota` changed ones that the quota
       * leaves out; `overLimit` past the limit.
       */
      eligible: number;
      overLimit: number;
      overQuota: number;
      duplicates: number;
      /** Profiles to add to the tenant's month. */
      reserve: number;
    };

/**
 * Applies the total-profile limit, then the tenant's quota, with the export's limit policy: `skip` stops
 * the run before anything is sent, `truncate` keeps the first N in the stable (seq) order.
 */
export function decide(input: DecisionInput): Decision {
  const duplicates = input.mapped - input.unique;
  const limit = Math.min(input.profileLimit, MAX_PROFILES_PER_RUN);
  const zero = { duplicates, eligible: 0, delivered: 0, failed: 0, overLimit: 0, overQuota: 0 };

  let withinLimit = input.unique;
  let overLimit = 0;
  if (input.unique > limit) {
    if (input.limitPolicy === 'skip') {
      return {
        action: 'skip',
        reason: 'PROFILE_LIMIT_EXCEEDED',
        message:
          `${input.partial ? 'at least ' : ''}${input.unique} unique profiles exceed the limit of ${limit} ` +
          `profiles per run; nothing was sent${input.partial ? ' (staging stopped once the limit was exceeded)' : ''}`,
        counts: { ...zero, overLimit: input.unique - limit },
      };
    }
    overLimit = input.unique - limit;
    withinLimit = limit;
  }

  const changed = Math.min(input.changed ?? withinLimit, withinLimit);
  let overQuota = 0;
  if (input.quotaPerMonth !== null) {
    const available = Math.max(0, input.quotaPerMonth - input.quotaUsed);
    if (changed > available) {
      if (input.limitPolicy === 'skip') {
        return {
          action: 'skip',
          reason: 'QUOTA_EXCEEDED',
          message:
            `${changed} profiles to send exceed the tenant's remaining monthly quota of ${available} ` +
            `(${input.quotaUsed} of ${input.quotaPerMonth} used); nothing was sent`,
          counts: { ...zero, overLimit, overQuota: changed - available },
        };
      }
      overQuota = changed - available;
    }
  }
  const eligible = withinLimit - overQuota;
  return { action: 'deliver', eligible, overLimit, overQuota, duplicates, reserve: changed - overQuota };
}

/** Calendar month in UTC, as quotas count it. */
export function quotaMonth(at: Date): string {
  return at.toISOString().slice(0, 7);
}
