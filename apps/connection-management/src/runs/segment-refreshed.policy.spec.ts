import { SegmentRefreshedV1 } from '@export/contracts';
import { AppError } from '@export/errors';
import { assertSegmentRefreshedAllowed } from './segment-refreshed.policy';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const policy = { snapshotRoot: '/data/snapshots', maxFutureSkewMs: 5 * 60 * 1000 };
const event = (location: string, occurredAt = '2026-12-01T10:00:00Z', tenantId = 'acme'): SegmentRefreshedV1 =>
  SegmentRefreshedV1.parse({
    eventId: 'e1',
    occurredAt,
    tenantId,
    segment: { id: 's', name: 'S', memberCount: 1 },
    snapshot: { format: 'csv', location },
  });

function codeOf(e: SegmentRefreshedV1): string | undefined {
  try {
    assertSegmentRefreshedAllowed(e, policy, NOW);
    return undefined;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    expect(error.retryable).toBe(false);
    return String(error.details.code);
  }
}

describe('assertSegmentRefreshedAllowed', () => {
  it('allows a snapshot inside the tenant folder, by path or file:// URI, with a little clock skew', () => {
    expect(codeOf(event('/data/snapshots/acme/2026/seg.csv'))).toBeUndefined();
    expect(codeOf(event('file:///data/snapshots/acme/2026/seg.csv', '2026-12-01T10:04:59Z'))).toBeUndefined();
    expect(codeOf(event('/data/snapshots/acme/seg.csv', '2020-01-01T00:00:00Z'))).toBeUndefined();
  });

  it.each([
    ["another tenant's folder", '/data/snapshots/other/seg.csv'],
    ['../', '/data/snapshots/acme/../other/seg.csv'],
    ['/etc/passwd', 'file:///etc/passwd'],
    ['a relative path', 'acme/seg.csv'],
    ['another scheme', 'https://lake.example/acme/seg.csv'],
    ['a broken file URI', 'file://host/data/snapshots/acme/seg.csv'],
  ])('refuses %s with SNAPSHOT_OUTSIDE_TENANT_ROOT', (_name, location) => {
    expect(codeOf(event(location))).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
  });

  it('refuses an occurredAt more than the skew in the future with EVENT_FROM_THE_FUTURE', () => {
    expect(codeOf(event('/data/snapshots/acme/seg.csv', '2026-12-01T10:05:01Z'))).toBe('EVENT_FROM_THE_FUTURE');
    expect(codeOf(event('/data/snapshots/acme/seg.csv', '2126-12-01T10:00:00+02:00'))).toBe('EVENT_FROM_THE_FUTURE');
  });
});
