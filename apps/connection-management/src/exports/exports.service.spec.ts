import { ExportView } from '@export/contracts';
import type { ExportRecord } from './exports.repository';
import { toExportView } from './exports.service';

const record: ExportRecord = {
  id: '00000000-0000-4000-8000-000000000004',
  tenantId: 'contoso',
  name: 'Newsletter',
  connectionId: null,
  segmentIds: ['seg-1'],
  mapping: { email: 'email', custom: [{ attribute: 'tier', field: 'Tier', type: 'string' }] },
  limitPolicy: 'skip',
  profileLimit: 1000,
  listNames: { 'seg-1': 'Newsletter list' },
  syncMode: 'mirror',
  massRemovalPercent: 20,
  createdBy: 'alice',
  createdAt: new Date('2026-12-01T07:00:00.000Z'),
  updatedAt: new Date('2026-12-01T07:05:00.000Z'),
};

describe('toExportView', () => {
  it('writes the JSON of the REST API, key for key in its order', () => {
    expect(JSON.stringify(toExportView(record))).toBe(
      '{"id":"00000000-0000-4000-8000-000000000004","name":"Newsletter","connectionId":null,"state":"no-connection",' +
        '"segmentIds":["seg-1"],"mapping":{"email":"email","custom":[{"attribute":"tier","field":"Tier","type":"string"}]},' +
        '"limitPolicy":"skip","profileLimit":1000,"listNames":{"seg-1":"Newsletter list"},"syncMode":"mirror",' +
        '"massRemovalPercent":20,"createdBy":"alice","createdAt":"2026-12-01T07:00:00.000Z","updatedAt":"2026-12-01T07:05:00.000Z"}',
    );
  });

  it('is what the shared ExportView schema (libs/contracts) describes, with no key it does not know', () => {
    const view = toExportView({ ...record, connectionId: '00000000-0000-4000-8000-000000000005' });
    expect(view.state).toBe('ready');
    expect(ExportView.strict().parse(view)).toEqual(view);
  });
});
