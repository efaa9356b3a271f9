import { RunView } from '@export/contracts';
import { toRunView } from './run-history.service';
import type { RunRecord } from './runs.repository';

const record: RunRecord = {
  id: '00000000-0000-4000-8000-000000000002',
  tenantId: 'contoso',
  exportId: '00000000-0000-4000-8000-000000000003',
  status: 'succeeded',
  trigger: 'on-demand',
  reason: 'MASS_REMOVAL_HELD',
  message: '120 removals held',
  correlationId: 'c-1',
  queuedAt: new Date('2026-12-01T07:00:00.000Z'),
  startedAt: new Date('2026-12-01T07:00:01.000Z'),
  finishedAt: null,
  options: { dryRun: false, fullResync: true, confirmRemovals: false },
  phase: 'finished',
  progress: { done: 3, total: 3 },
  counts: {
    extracted: 10,
    rejected: 1,
    duplicates: 0,
    eligible: 9,
    added: 2,
    updated: 1,
    unchanged: 6,
    removed: 0,
    delivered: 3,
    failed: 0,
    overLimit: 0,
    overQuota: 0,
  },
};

describe('toRunView', () => {
  it('writes the JSON of the REST API, key for key in its order', () => {
    expect(JSON.stringify(toRunView(record))).toBe(
      '{"id":"00000000-0000-4000-8000-000000000002","exportId":"00000000-0000-4000-8000-000000000003",' +
        '"status":"succeeded","trigger":"on-demand","reason":"MASS_REMOVAL_HELD","message":"120 removals held",' +
        '"queuedAt":"2026-12-01T07:00:00.000Z","startedAt":"2026-12-01T07:00:01.000Z","finishedAt":null,' +
        '"dryRun":false,"fullResync":true,"confirmRemovals":false,"phase":"finished","progress":{"done":3,"total":3},' +
        '"counts":{"extracted":10,"rejected":1,"duplicates":0,"eligible":9,"added":2,"updated":1,"unchanged":6,' +
        '"removed":0,"delivered":3,"failed":0,"overLimit":0,"overQuota":0}}',
    );
  });

  it('is what the shared RunView schema (libs/contracts) describes, with no key it does not know', () => {
    const view = toRunView({ ...record, reason: null, message: null });
    expect(RunView.strict().parse(view)).toEqual(view);
    expect(view).not.toHaveProperty('reason');
  });
});
