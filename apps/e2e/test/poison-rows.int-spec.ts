import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS, type ContactsMappedV1 } from '@export/contracts';
import { collectMessages, createStackTenant, startStack, type CollectedMessage, type Stack, type StackTenant } from '@export/testing';
import { Client } from 'pg';

/**
 * Issue 11, the whole system (services as processes, real broker, PostgreSQL, Redis, simulator): a CSV cell
 * holding a NUL is a row rejection with its reason, never a stalled or failed run; and a batch that mapping
 * inflates past the broker's message limit (many custom fields) travels in parts, all staged, counts exact.
 */
describe('poison rows and inflated batches end to end', () => {
  let stack: Stack;
  let mapped: { messages: CollectedMessage[]; stop: () => Promise<void> };
  const apiKey = `sim-poison-${randomUUID()}`;
  const segmentId = 'seg-wide';
  const ROWS = 200;
  let tenant: StackTenant;
  let snapshotPath: string;

  beforeAll(async () => {
    mapped = await collectMessages([TOPICS.contactsMapped.name]);
    stack = await startStack({ apiKeys: [apiKey], simulatorRps: 0 });
    tenant = await createStackTenant(stack, { prefix: 'e2e-poison' });
    snapshotPath = join(tenant.snapshotDir, 'wide.csv');
    const note = (i: number) => `note ${i} `.padEnd(512, 'n');
    const lines = ['CustomerId,EMail,FirstName,Note'];
    for (let i = 0; i < ROWS; i++) lines.push(`C-${i},p${i}@example.com,P${i},${note(i)}`);
    // Two rows with a NUL byte in a mapped cell (and one in the row's CustomerId): rejected, the run goes on.
    lines.splice(50, 0, 'C-nul-1,nul1@example.com,Ada\u0000Lovelace,ok');
    lines.splice(120, 0, 'C-\u0000nul-2,nul2@example.com,Grace,bad\u0000note');
    writeFileSync(snapshotPath, lines.join('\n') + '\n');
  });

  afterAll(async () => {
    await mapped?.stop();
    await stack?.stop();
  });

  it('rejects the rows with a NUL with their reasons, splits the inflated batch into parts, and delivers every other contact once', async () => {
    await tenant.refresh({
      segment: { id: segmentId, name: 'Wide segment', memberCount: ROWS + 2 },
      snapshot: { format: 'csv', location: `file://${snapshotPath}` },
    });
    await tenant.segmentKnown(segmentId);
    const connection = await tenant.connect(apiKey);
    // 100 custom fields fed by the one 512-byte Note: ~120 KiB of rows (one extracted batch) map to ~10 MiB.
    const custom = Array.from({ length: 100 }, (_, i) => ({ attribute: 'Note', field: `Note ${i}`, type: 'string' }));
    const exportId = await tenant.createExport({
      name: 'Wide export',
      connectionId: connection.id,
      segmentIds: [segmentId],
      mapping: { email: 'EMail', firstName: 'FirstName', custom },
    });
    const runId = await tenant.run(exportId, {});
    const run = await tenant.runEnded(runId, 120_000);
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'succeeded', reason: undefined });
    expect(run.counts).toMatchObject({
      extracted: ROWS + 2,
      rejected: 2,
      duplicates: 0,
      eligible: ROWS,
      delivered: ROWS,
      failed: 0,
    });

    const rejections = await tenant.api.call<{ items: { line: number; profileId?: string; reason: string }[] }>(
      'GET',
      `/v1/runs/${runId}/rejections`,
    );
    const byReason = rejections.body.items.map((r) => [r.profileId, r.reason]).sort();
    expect(byReason).toEqual([
      ['C-?nul-2', 'invalid value (attribute Note): holds a NUL character'],
      ['C-nul-1', 'invalid value (attribute FirstName): holds a NUL character'],
    ]);

    // The extracted batch travelled as parts, each well under the broker's limit.
    const parts = mapped.messages
      .filter((m) => m.key === runId && m.value)
      .map((m) => ({ bytes: Buffer.byteLength(m.value as string), value: JSON.parse(m.value as string) as ContactsMappedV1 }))
      .filter((m): m is { bytes: number; value: Extract<ContactsMappedV1, { kind: 'batch' }> } => m.value.kind === 'batch');
    expect(parts.length).toBeGreaterThan(10);
    expect(new Set(parts.map((p) => p.value.parts))).toEqual(new Set([parts.length]));
    expect(Math.max(...parts.map((p) => p.bytes))).toBeLessThanOrEqual(512 * 1024);
    expect(parts.reduce((n, p) => n + p.value.contacts.length, 0)).toBe(ROWS);

    const pg = new Client({ connectionString: stack.databaseUrl });
    await pg.connect();
    try {
      const { rows } = await pg.query(
        `SELECT count(*)::int AS parts, sum(contacts)::int AS contacts, min(parts)::int AS of FROM delivery.staged_batches WHERE run_id = $1`,
        [runId],
      );
      expect(rows).toEqual([{ parts: parts.length, contacts: ROWS, of: parts.length }]);
    } finally {
      await pg.end();
    }

    const sim = (await (await fetch(`${stack.simulatorUrl}/__sim/contacts`)).json()) as {
      contacts: { email: string; upserts: number; fields: Record<string, unknown> }[];
    };
    const ours = sim.contacts.filter((c) => /^p\d+@example\.com$/.test(c.email));
    expect(ours).toHaveLength(ROWS);
    expect(ours.every((c) => c.upserts === 1)).toBe(true);
    expect(sim.contacts.some((c) => c.email.startsWith('nul'))).toBe(false);
  });
});
