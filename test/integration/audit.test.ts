import { sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { appendAudit, recordHash } from '../../services/audit/records';
import { auditRecords } from '../../db/schema';
import { decideBranch } from '../../services/enrolment/branch-decisions';
import { startHarness, uniqueEmail, type Harness } from '../support/harness';

/** The audit trail as proof: append-only, hash-chained, verifiable, exportable. */
describe('audit trail', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function finishedEnrolment() {
    const key = await h.publish({ steps: [
      { id: 'hello', type: 'send_email', subject: 'Hello, "friend"', text: 'Hi,\nthere', next: 'tag' },
      { id: 'tag', type: 'update_contact', addTags: ['audited'] },
    ] });
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('audit') } });
    await h.result(e.body.workflowId);
    return { key, ...e.body } as { key: string; id: string; workflowId: string; contactId: string };
  }

  it('chains verify, and the export holds every step of an enrolment as JSON and CSV', async () => {
    const e = await finishedEnrolment();
    // Every chain at once is a background job (audit-checkpoints.test.ts); one chain is recomputed on request.
    const verified = await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(`enrolment:${e.id}`)}`);
    expect(verified.body).toMatchObject({ ok: true, unchained: 0, records: 4 });

    const json = await h.api('GET', `/v1/audit?enrolmentId=${e.id}`);
    expect(json.body.records.map((r: { action: string }) => r.action)).toEqual(['enrolment.started', 'email.sent', 'contact.updated', 'enrolment.completed']);
    const sent = json.body.records[1];
    expect(sent).toMatchObject({ chain: `enrolment:${e.id}`, seq: 2, stepId: 'hello', idempotencyKey: `${e.workflowId}:hello:1`, consentState: 'unknown (opt_out)' });
    expect(sent.providerMessageId).toMatch(/^<.+@nurture\.test>$/);
    expect(sent.prevHash).toBe(json.body.records[0].hash);

    const csv = await fetch(`${h.baseUrl}/v1/audit?journeyKey=${e.key}&format=csv`, { headers: { authorization: `Bearer ${h.keys.admin}` } });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toMatch(/^id,at,chain,seq,actor,action,outcome,/);
    expect(lines.length).toBe(5);
    expect((await h.api('GET', '/v1/audit')).status).toBe(400);
  });

  it('concurrent appends to one chain, retried ones included, leave one unbroken line with each key once', async () => {
    const contactId = (await h.api('POST', '/v1/contacts', { email: uniqueEmail('chain') })).body.id as string;
    const keys = Array.from({ length: 40 }, (_, i) => `chain-test:${contactId}:${i % 25}`);
    await Promise.all(keys.map((key, i) => appendAudit(h.database.db, { actor: 'test', action: 'test.appended', outcome: String(i), contactId, idempotencyKey: key })));
    const { rows } = await h.database.db.execute(sql`select seq, idempotency_key from audit_records where chain = ${`contact:${contactId}`} order by seq`) as unknown as { rows: Array<{ seq: number; idempotency_key: string }> };
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(25);
    const report = await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(`contact:${contactId}`)}`);
    expect(report.body).toMatchObject({ ok: true, records: 25 });
  });

  it('a progress write goes in the statement of its record, also when the record was in already (a retry)', async () => {
    const e = await finishedEnrolment();
    const progressOf = async () => (await h.api('GET', `/v1/enrolments/${e.id}`)).body.currentStep as string | null;
    const entry = { actor: 'test', action: 'test.moved', outcome: 'ok', enrolmentId: e.id, idempotencyKey: `${e.workflowId}:moved` };
    expect(await appendAudit(h.database.db, entry, { currentStep: 'first' })).toEqual({ appended: true });
    expect(await progressOf()).toBe('first');
    // A retry of the same record (same key) writes nothing new but still moves the enrolment.
    expect(await appendAudit(h.database.db, entry, { currentStep: 'again' })).toMatchObject({ appended: false, existing: { outcome: 'ok' } });
    expect(await progressOf()).toBe('again');
    const records = await h.api('GET', `/v1/audit?enrolmentId=${e.id}`);
    expect(records.body.records.map((r: { action: string }) => r.action)).toEqual(['enrolment.started', 'email.sent', 'contact.updated', 'enrolment.completed', 'test.moved']);
    expect((await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(`enrolment:${e.id}`)}`)).body).toMatchObject({ ok: true, records: 5 });
  });

  it('records hashed the older way (v1, before the database computed hashes) still verify, and the chain goes on from them', async () => {
    const contactId = (await h.api('POST', '/v1/contacts', { email: uniqueEmail('v1') })).body.id as string;
    const chain = `contact:${contactId}`;
    const old = {
      chain, seq: 1, prevHash: null, at: new Date('2026-11-01T10:00:00.000Z'), actor: 'test', action: 'test.old', outcome: 'ok', contactId,
      journeyKey: null, journeyVersion: null, enrolmentId: null, workflowId: null, stepId: null, stepType: null, idempotencyKey: `v1:${contactId}`,
      providerMessageId: null, consentState: null, templateVersion: null, test: false, details: { kept: true },
    };
    const v1 = recordHash(old);
    expect(v1).toMatch(/^[0-9a-f]{64}$/);
    await h.database.db.insert(auditRecords).values({ ...old, hash: v1 });
    await appendAudit(h.database.db, { actor: 'test', action: 'test.new', outcome: 'ok', contactId, idempotencyKey: `v2:${contactId}` });
    const records = (await h.api('GET', `/v1/audit?contactId=${contactId}`)).body.records.filter((r: { chain: string }) => r.chain === chain);
    expect(records.map((r: { seq: number; prevHash: string | null }) => [r.seq, r.prevHash])).toEqual([[1, null], [2, v1]]);
    expect(records[1].hash).toMatch(/^v2:[0-9a-f]{64}$/);
    expect((await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(chain)}`)).body).toMatchObject({ ok: true, records: 2 });
  });

  it('a branch decides once: a retry after the record was written answers with the recorded decision', async () => {
    const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('branch'), score: 5 });
    const enrolmentId = randomUUID();
    const request = {
      contactId: contact.body.id, enrolmentId, cases: [{ condition: { field: 'contact.score', op: 'gte' as const, value: 10 }, next: 'big' }],
      default: 'small', approvals: {}, engagement: false, stepId: 'check',
      audit: { actor: 'journey', action: 'branch.taken', enrolmentId, idempotencyKey: `test:${enrolmentId}:check:1`, stepId: 'check', stepType: 'branch' },
    };
    expect(await decideBranch(h.database.db, request)).toEqual({ index: -1 });
    await h.api('PATCH', `/v1/contacts/${contact.body.id}`, { scoreDelta: 10 });
    expect(await decideBranch(h.database.db, request)).toEqual({ index: -1 });
    const records = await h.api('GET', `/v1/audit?enrolmentId=${enrolmentId}`);
    expect(records.body.records).toHaveLength(1);
    expect(records.body.records[0]).toMatchObject({ outcome: 'default', details: { case: null, next: 'small' } });
    // A new visit (a new key) reads the contact as it is now.
    expect(await decideBranch(h.database.db, { ...request, audit: { ...request.audit, idempotencyKey: `test:${enrolmentId}:check:2` } })).toEqual({ index: 0 });
  });

  it('the database refuses to change or delete a record', async () => {
    const e = await finishedEnrolment();
    await expect(h.database.db.execute(sql`update audit_records set outcome = 'x' where enrolment_id = ${e.id}`)).rejects.toThrow();
    await expect(h.database.db.execute(sql`delete from audit_records where enrolment_id = ${e.id}`)).rejects.toThrow();
  });

  it('tampering through SQL as a superuser (triggers bypassed) is found and named', async () => {
    const e = await finishedEnrolment();
    await h.admin.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`update audit_records set details = '{"to":"someone-else@example.test"}' where enrolment_id = ${e.id} and seq = 2`);
    });
    const report = await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(`enrolment:${e.id}`)}`);
    expect(report.body).toMatchObject({ ok: false, firstBroken: { chain: `enrolment:${e.id}`, seq: 2, reason: 'hash_mismatch' } });

    const other = await finishedEnrolment();
    await h.admin.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`delete from audit_records where enrolment_id = ${other.id} and seq = 2`);
    });
    const gap = await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(`enrolment:${other.id}`)}`);
    expect(gap.body.firstBroken).toMatchObject({ seq: 3, reason: 'sequence_gap' });
  });
});
