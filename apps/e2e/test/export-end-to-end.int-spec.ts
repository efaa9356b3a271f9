import { randomUUID } from 'node:crypto';
import { cpSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeadLetterV1, TOPICS, type RunView, type SegmentRefreshedV1 } from '@export/contracts';
import {
  collectMessages,
  createStackTenant,
  expectEventually,
  produceRaw,
  startStack,
  tenantSnapshotDir,
  type CollectedMessage,
  type Stack,
  type StackTenant,
} from '@export/testing';
import { Client } from 'pg';

interface SimContact {
  email: string;
  fields: Record<string, unknown>;
  lists: string[];
}

/**
 * The whole system: four services as separate processes on the real broker, the real PostgreSQL and
 * Redis, delivering to the Autopilot simulator.
 */
describe('segment export end to end', () => {
  let stack: Stack;
  let topics: { messages: CollectedMessage[]; stop: () => Promise<void> };
  const apiKey = `sim-e2e-${randomUUID()}`;
  const segmentId = 'seg-newsletter';
  let tenant: StackTenant;
  let tenantId: string;
  let api: StackTenant['api'];
  let snapshotPath: string;

  beforeAll(async () => {
    topics = await collectMessages(Object.values(TOPICS).map((t) => t.name));
    stack = await startStack({ apiKeys: [apiKey], simulatorRps: 0 });
    tenant = await createStackTenant(stack, { prefix: 'e2e' });
    ({ tenantId, api } = tenant);
    // The tenant's own folder under the stack's SNAPSHOT_ROOT: the only place its events may name.
    snapshotPath = join(tenant.snapshotDir, 'members.csv');
    writeFileSync(
      snapshotPath,
      [
        'CustomerId,EMail,FirstName,LastName',
        'C-1,ada@example.com,Ada,Lovelace',
        'C-2, Grace@Example.com ,Grace,Hopper',
        'C-3,,No,Email',
        'C-4,not-an-email,Bad,Email',
        'C-5,ADA@example.com,Ada,Again',
        'C-6,"linus@example.com","Linus ""L""","Torvalds, Jr."',
      ].join('\r\n') + '\r\n',
    );
  });

  afterAll(async () => {
    await topics?.stop();
    await stack?.stop();
  });

  /** A segment-refreshed event of the newsletter segment unless `overrides` say otherwise. */
  const refresh = (overrides: Partial<SegmentRefreshedV1> = {}) =>
    tenant.refresh({
      segment: { id: segmentId, name: 'Newsletter', memberCount: 6 },
      snapshot: { format: 'csv', location: `file://${snapshotPath}` },
      ...overrides,
    });

  it('turns a segment-refreshed event into exactly the valid, de-duplicated contacts in Autopilot', async () => {
    // The first refresh makes the segment known, so an export can name it.
    await refresh();
    await tenant.segmentKnown(segmentId);

    const connection = await tenant.connect(apiKey);
    expect(connection.apiKeyLast4).toBe(apiKey.slice(-4));

    const exportId = await tenant.createExport({
      name: 'Newsletter to Autopilot',
      connectionId: connection.id,
      segmentIds: [segmentId],
      mapping: { email: 'EMail', firstName: 'FirstName', lastName: 'LastName' },
    });
    const before = await api.call<unknown[] | { items: unknown[] }>('GET', `/v1/exports/${exportId}/runs`);
    expect(Array.isArray(before.body) ? before.body : before.body.items).toHaveLength(0); // saving never runs it

    await refresh();
    const run = await expectEventually(
      async () => {
        const { body } = await api.call<RunView[] | { items: RunView[] }>('GET', `/v1/exports/${exportId}/runs`);
        const runs = Array.isArray(body) ? body : body.items;
        const done = runs.find((r) => ['succeeded', 'failed', 'skipped', 'canceled'].includes(r.status));
        return done ? (await api.call<RunView>('GET', `/v1/runs/${done.id}`)).body : undefined;
      },
      { timeoutMs: 90000, message: 'the run to finish' },
    );

    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({
      extracted: 6,
      rejected: 2,
      duplicates: 1,
      eligible: 3,
      delivered: 3,
      failed: 0,
      overLimit: 0,
      overQuota: 0,
    });

    const sim = await (await fetch(`${stack.simulatorUrl}/__sim/contacts`)).json() as { contacts: SimContact[] };
    const emails = sim.contacts.map((c) => c.email).sort();
    expect(emails).toEqual(['ada@example.com', 'grace@example.com', 'linus@example.com']);
    const ada = sim.contacts.find((c) => c.email === 'ada@example.com');
    expect(ada?.fields).toMatchObject({ FirstName: 'Ada', LastName: 'Lovelace' }); // the first row wins
    const linus = sim.contacts.find((c) => c.email === 'linus@example.com');
    expect(linus?.fields).toMatchObject({ FirstName: 'Linus "L"', LastName: 'Torvalds, Jr.' });
    const lists = await (await fetch(`${stack.simulatorUrl}/__sim/lists`)).json() as { lists: { title: string; members: number }[] };
    expect(lists.lists.filter((l) => l.title === 'Newsletter')).toEqual([expect.objectContaining({ members: 3 })]);

    const rejections = await api.call<{ items: { line: number; reason: string }[] }>('GET', `/v1/runs/${run.id}/rejections`);
    expect(rejections.status).toBe(200);
    expect(rejections.body.items.map((r) => r.reason).join(' | ')).toMatch(/e-mail/i);
    expect(rejections.body.items).toHaveLength(2);
  });

  it('exports the CDM sample folder: 7 contacts delivered, 2 rows rejected with reasons, 1 duplicate', async () => {
    const cdm = { id: 'seg-high-value', name: 'High value customers' };
    const cdmFolder = join(tenantSnapshotDir(tenantId, stack.snapshotRoot), 'cdm-sample');
    cpSync(join(__dirname, '../../../libs/snapshot-reader/fixtures/cdm-sample'), cdmFolder, { recursive: true });
    const modelJson = join(cdmFolder, 'model.json');
    await refresh({
      segment: { ...cdm, memberCount: 10 },
      snapshot: { format: 'cdm-folder', location: `file://${modelJson}`, entity: 'HighValueCustomers' },
    });
    await tenant.segmentKnown(cdm.id);
    const connections = await api.call<{ id: string }[] | { items: { id: string }[] }>('GET', '/v1/connections');
    const connectionId = (Array.isArray(connections.body) ? connections.body : connections.body.items)[0].id;
    const exportId = await tenant.createExport({
      name: 'High value customers',
      connectionId,
      segmentIds: [cdm.id],
      mapping: { email: 'EMail', firstName: 'FirstName', lastName: 'LastName' },
      listNames: { [cdm.id]: 'CDM high value' },
    });
    const run = await tenant.runEnded(await tenant.run(exportId));
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'succeeded', reason: undefined });
    expect(run.counts).toMatchObject({ extracted: 10, rejected: 2, duplicates: 1, eligible: 7, delivered: 7, failed: 0 });

    const lists = (await (await fetch(`${stack.simulatorUrl}/__sim/lists`)).json()) as { lists: { list_id: string; title: string; members: number }[] };
    const list = lists.lists.filter((l) => l.title === 'CDM high value');
    expect(list).toEqual([expect.objectContaining({ members: 7 })]);

    const rejections = await api.call<{ items: { profileId?: string; line: number; partition: string; reason: string }[] }>(
      'GET',
      `/v1/runs/${run.id}/rejections`,
    );
    const byProfile = Object.fromEntries(rejections.body.items.map((r) => [r.profileId, r.reason]));
    expect(Object.keys(byProfile).sort()).toEqual(['C-0003', 'C-0004']);
    expect(byProfile['C-0003']).toMatch(/missing e-mail/);
    expect(byProfile['C-0004']).toMatch(/invalid e-mail/);
  });

  it("never exports another tenant's snapshot: refused by the control plane by path, by extraction through a link", async () => {
    const victim = `e2e-victim-${randomUUID().slice(0, 8)}`;
    const victimFile = join(tenantSnapshotDir(victim, stack.snapshotRoot), 'members.csv');
    writeFileSync(victimFile, 'CustomerId,EMail\r\nV-1,victim@other-tenant.example\r\n');
    symlinkSync(victimFile, join(tenantSnapshotDir(tenantId, stack.snapshotRoot), 'innocent.csv'));
    const stolen = { id: 'seg-stolen', name: 'Stolen' };
    const marker = randomUUID();
    // By path: dead-lettered by the control plane (lexical check), the segment never registered.
    await refresh({ eventId: marker, segment: { ...stolen, memberCount: 1 }, snapshot: { format: 'csv', location: `file://${victimFile}` } });
    const letter = await expectEventually(
      () =>
        topics.messages
          .filter((m) => m.topic === TOPICS.deadLetter.name)
          .map((m) => JSON.parse(m.value ?? 'null') as DeadLetterV1)
          .find((l) => l.value?.includes(marker)),
      { message: 'the outside location dead-lettered' },
    );
    expect(letter.code).toBe('SNAPSHOT_OUTSIDE_TENANT_ROOT');
    const segments = await api.call<{ id: string }[] | { items: { id: string }[] }>('GET', '/v1/segments');
    expect((Array.isArray(segments.body) ? segments.body : segments.body.items).some((s) => s.id === stolen.id)).toBe(false);

    // Through a link inside the tenant's folder: lexically fine, so the segment is registered, but
    // extraction follows the link, finds it outside and fails the run before reading anything.
    await refresh({
      segment: { ...stolen, memberCount: 1 },
      snapshot: { format: 'csv', location: `file://${join(stack.snapshotRoot, tenantId, 'innocent.csv')}` },
    });
    await tenant.segmentKnown(stolen.id);
    const connections = await api.call<{ id: string }[] | { items: { id: string }[] }>('GET', '/v1/connections');
    const connectionId = (Array.isArray(connections.body) ? connections.body : connections.body.items)[0].id;
    const exportId = await tenant.createExport({ name: 'Stolen', connectionId, segmentIds: [stolen.id], mapping: { email: 'EMail' } });
    const run = await tenant.runEnded(await tenant.run(exportId), 30_000);
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'failed', reason: 'SNAPSHOT_OUTSIDE_TENANT_ROOT' });
    expect(JSON.stringify(run)).not.toContain('victim@');
    const sim = (await (await fetch(`${stack.simulatorUrl}/__sim/contacts`)).json()) as { contacts: SimContact[] };
    expect(sim.contacts.some((c) => c.email.includes('victim@'))).toBe(false);
    for (const [name, service] of Object.entries(stack.services)) {
      const path = name === 'autopilot-simulator' ? '/__sim/health' : '/readyz';
      expect({ name, status: (await fetch(`http://127.0.0.1:${service.port}${path}`)).status }).toEqual({ name, status: 200 });
    }
  });

  it('dead-letters a malformed event with a reason and goes on with the next one', async () => {
    const marker = randomUUID();
    await produceRaw(TOPICS.segmentRefreshed.name, [
      { key: `${tenantId}:bad-json`, value: `{"eventId":"${marker}", this is not json` },
      { key: `${tenantId}:bad-shape`, value: JSON.stringify({ eventId: marker, tenantId }) },
    ]);
    await refresh({ segment: { id: 'seg-after-poison', name: 'After poison', memberCount: 6 } });

    const letters = await expectEventually(() => {
      const mine = topics.messages
        .filter((m) => m.topic === TOPICS.deadLetter.name && (m.value ?? '').includes(marker))
        .map((m) => DeadLetterV1.parse(JSON.parse(m.value ?? '')));
      const codes = new Set(mine.map((l) => l.code));
      return codes.has('INVALID_JSON') && codes.has('SCHEMA_MISMATCH') ? mine : undefined;
    }, { message: 'a dead letter for the bad JSON and one for the wrong shape' });
    expect(new Set(letters.map((l) => l.code))).toEqual(new Set(['INVALID_JSON', 'SCHEMA_MISMATCH']));
    expect(letters.every((l) => l.reason.length > 0 && l.sourceTopic === TOPICS.segmentRefreshed.name)).toBe(true);

    // The valid event after the malformed ones is processed.
    await tenant.segmentKnown('seg-after-poison');
  });

  it('never shows the API key in a log line, a Kafka message, an API response or a database column', async () => {
    const { body } = await api.call('GET', '/v1/connections');
    expect(JSON.stringify(body)).not.toContain(apiKey);
    for (const message of topics.messages) {
      expect(`${message.key} ${message.value} ${JSON.stringify(message.headers)}`).not.toContain(apiKey);
    }
    expect(topics.messages.length).toBeGreaterThan(5);
    // In the database the key exists only encrypted: no column of any table of any schema holds it.
    const db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const tables = await db.query<{ schema: string; name: string }>(
        `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
          WHERE table_schema IN ('control_plane', 'delivery') AND table_type = 'BASE TABLE'`,
      );
      expect(tables.rows.length).toBeGreaterThan(3);
      for (const table of tables.rows) {
        const rows = await db.query(`SELECT * FROM "${table.schema}"."${table.name}"`);
        expect(JSON.stringify(rows.rows)).not.toContain(apiKey);
      }
      const stored = await db.query(`SELECT * FROM control_plane.connections`);
      expect(stored.rows.length).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
    for (const [name, service] of Object.entries(stack.services)) {
      if (name === 'autopilot-simulator') continue; // the simulator is Autopilot's stand-in: keys are its own data
      expect(service.output()).not.toContain(apiKey);
    }
  });
});
