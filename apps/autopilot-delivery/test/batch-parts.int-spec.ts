import { randomUUID } from 'node:crypto';
import { TOPICS, type ContactsMappedV1, type MappedContact, type RunSpec } from '@export/contracts';
import { produceRaw } from '@export/testing';
import axios from 'axios';
import {
  runSpec,
  startDelivery,
  startDeliveryTestEnvironment,
  uid,
  waitForEvent,
  type DeliveryInstance,
  type DeliveryTestEnvironment,
} from './support/harness';

/**
 * Issue 11: field mapping splits a mapped batch too large for one Kafka message into parts (contacts-mapped.v1
 * `part`/`parts`). Delivery (built artifact, real broker, PostgreSQL, Redis, simulator) stages every part
 * once, whatever the order and however often each is redelivered, and the run counts exactly.
 */
describe('autopilot-delivery: batches split into parts', () => {
  let environment: DeliveryTestEnvironment;
  let delivery: DeliveryInstance;

  beforeAll(async () => {
    environment = await startDeliveryTestEnvironment('delivery_parts_it');
    delivery = await startDelivery(environment.deliveryEnv({ KAFKA_GROUP_ID: uid('delivery-parts-it') }));
  }, 120_000);

  afterAll(async () => {
    await delivery?.stop();
    await environment?.stop();
  }, 60_000);

  const contact = (run: RunSpec, seq: number): MappedContact => ({
    seq,
    email: `part${seq}@example.com`,
    segmentId: run.segments[0].segmentId,
    // Large custom fields, as the ones that made mapping split the batch.
    contact: {
      Email: `part${seq}@example.com`,
      FirstName: `P${seq}`,
      custom: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`string--Field--${i}`, `${seq}:${i}:`.padEnd(2048, 'v')])),
    },
  });

  it('stages each part of a split batch once (out of order, redelivered) and delivers every contact, counts exact', async () => {
    const tenantId = uid('tenant');
    const connectionId = uid('conn');
    const apiKey = `key-${randomUUID()}`;
    const account = uid('account');
    await axios.post(`${environment.sim.url}/__sim/keys`, { key: apiKey, account });
    environment.controlPlane.connections.set(connectionId, { tenantId, apiKey, status: 'active' });
    const run = runSpec({ tenantId, connectionId });

    // Batch 0 split into 3 parts of 40 contacts; batch 1 whole (no part/parts, as before parts existed).
    const part = (n: number): ContactsMappedV1 => ({
      kind: 'batch',
      run,
      batchSeq: 0,
      part: n,
      parts: 3,
      contacts: Array.from({ length: 40 }, (_, i) => contact(run, n * 40 + i)),
      rejected: n === 0 ? 2 : 0,
    });
    const whole: ContactsMappedV1 = {
      kind: 'batch',
      run,
      batchSeq: 1,
      contacts: Array.from({ length: 30 }, (_, i) => contact(run, 120 + i)),
      rejected: 0,
    };
    const end: ContactsMappedV1 = { kind: 'end', run, batches: 2, extracted: 152 };
    // The end arrives while part 1 is still missing: the run must wait for it, then count it once.
    const order = [part(2), part(0), whole, part(2), end, part(0), part(1), part(1)];
    for (const value of order) await produceRaw(TOPICS.contactsMapped.name, [{ key: run.runId, value: JSON.stringify(value) }]);

    const completed = await waitForEvent(environment.events, run.runId, 'delivery-completed');
    expect(completed.counts).toEqual({
      duplicates: 0,
      eligible: 150,
      delivered: 150,
      failed: 0,
      overLimit: 0,
      overQuota: 0,
      added: 150,
      updated: 0,
      unchanged: 0,
      removed: 0,
    });

    const { rows: parts } = await environment.pg.query(
      `SELECT batch_seq, part, parts, contacts FROM delivery.staged_batches WHERE run_id = $1 ORDER BY batch_seq, part`,
      [run.runId],
    );
    expect(parts).toEqual([
      { batch_seq: 0, part: 0, parts: 3, contacts: 40 },
      { batch_seq: 0, part: 1, parts: 3, contacts: 40 },
      { batch_seq: 0, part: 2, parts: 3, contacts: 40 },
      { batch_seq: 1, part: 0, parts: 1, contacts: 30 },
    ]);
    const { rows: runRows } = await environment.pg.query(
      `SELECT staged_batches, expected_batches, mapped FROM delivery.runs WHERE run_id = $1`,
      [run.runId],
    );
    expect(runRows).toEqual([{ staged_batches: 2, expected_batches: 2, mapped: 150 }]);
    const contacts = (await axios.get(`${environment.sim.url}/__sim/contacts`, { params: { account } })).data.contacts as {
      upserts: number;
    }[];
    expect(contacts).toHaveLength(150);
    expect(contacts.every((c) => c.upserts === 1)).toBe(true);
  });
});
