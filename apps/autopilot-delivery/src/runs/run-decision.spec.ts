import { decide, quotaMonth } from './run-decision';

const base = {
  mapped: 120,
  unique: 100,
  profileLimit: 100_000,
  limitPolicy: 'skip' as const,
  quotaPerMonth: null,
  quotaUsed: 0,
};

describe('decide', () => {
  it('delivers everything under the limits and counts duplicates', () => {
    expect(decide(base)).toEqual({
      action: 'deliver',
      eligible: 100,
      overLimit: 0,
      overQuota: 0,
      duplicates: 20,
      reserve: 100,
    });
  });

  it('skips over the profile limit with policy skip, with counts', () => {
    const decision = decide({ ...base, profileLimit: 60 });
    expect(decision).toMatchObject({
      action: 'skip',
      reason: 'PROFILE_LIMIT_EXCEEDED',
      counts: { overLimit: 40, eligible: 0 },
    });
    if (decision.action === 'skip')
      expect(decision.message).toContain('100 unique profiles exceed the limit of 60');
  });

  it('says "at least" when staging stopped early because the skip was already certain', () => {
    const decision = decide({ ...base, profileLimit: 60, partial: true });
    expect(decision).toMatchObject({ action: 'skip', reason: 'PROFILE_LIMIT_EXCEEDED' });
    expect(decision.action === 'skip' && decision.message).toContain(
      'at least 100 unique profiles exceed the limit of 60 profiles per run; nothing was sent',
    );
  });

  it('never allows more than 100,000 per run whatever the export says', () => {
    expect(
      decide({ ...base, mapped: 100_001, unique: 100_001, profileLimit: 100_000, limitPolicy: 'truncate' }),
    ).toMatchObject({
      eligible: 100_000,
      overLimit: 1,
    });
  });

  it('truncates to the limit, then to the remaining quota', () => {
    expect(
      decide({ ...base, profileLimit: 60, limitPolicy: 'truncate', quotaPerMonth: 1000, quotaUsed: 950 }),
    ).toEqual({
      action: 'deliver',
      eligible: 50,
      overLimit: 40,
      overQuota: 10,
      duplicates: 20,
      reserve: 50,
    });
  });

  it('skips over the quota with policy skip', () => {
    expect(decide({ ...base, quotaPerMonth: 150, quotaUsed: 60 })).toMatchObject({
      action: 'skip',
      reason: 'QUOTA_EXCEEDED',
      counts: { overQuota: 10 },
    });
  });

  it('delivers nothing, but does not go negative, when the quota is already exhausted', () => {
    expect(decide({ ...base, limitPolicy: 'truncate', quotaPerMonth: 10, quotaUsed: 25 })).toMatchObject({
      eligible: 0,
      overQuota: 100,
      reserve: 0,
    });
  });

  it('counts only the contacts to send (added + updated) against the quota, unchanged ones stay eligible', () => {
    expect(decide({ ...base, quotaPerMonth: 150, quotaUsed: 60, changed: 5 })).toEqual({
      action: 'deliver',
      eligible: 100,
      overLimit: 0,
      overQuota: 0,
      duplicates: 20,
      reserve: 5,
    });
    expect(decide({ ...base, limitPolicy: 'truncate', quotaPerMonth: 70, quotaUsed: 60, changed: 30 })).toMatchObject({
      eligible: 80,
      overQuota: 20,
      reserve: 10,
    });
    expect(decide({ ...base, quotaPerMonth: 70, quotaUsed: 60, changed: 30 })).toMatchObject({
      action: 'skip',
      reason: 'QUOTA_EXCEEDED',
      counts: { overQuota: 20 },
    });
  });

  it('names the UTC month', () => {
    expect(quotaMonth(new Date('2026-11-30T23:59:59-05:00'))).toBe('2026-12');
  });
});
