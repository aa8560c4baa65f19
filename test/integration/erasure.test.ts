import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { contacts, enrolments, outgoingEmails, tasks } from '../../db/schema';
import { ERASURE_STEPS, TABLES_WITHOUT_CONTACT_DATA } from '../../services/contacts/erasure-steps';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

/**
 * Erasure (GDPR Art. 17) on the real stack: after it no text, JSON or array column of any table
 * holds any of the contact's data, its running enrolments were cancelled, its id is refused,
 * and every audit chain it touched still verifies.
 */
describe('erasure', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const rows = async <T>(query: ReturnType<typeof sql>) => ((await h.database.db.execute(query)) as unknown as { rows: T[] }).rows;

  /** `table.column` of every text, JSON and array column in the schema that holds any of `values` (case-insensitive). */
  async function whereFound(values: string[]): Promise<string[]> {
    const columns = await rows<{ table_name: string; column_name: string }>(sql`select table_name, column_name from information_schema.columns
      where table_schema = 'public' and data_type in ('text', 'character varying', 'json', 'jsonb', 'ARRAY') order by 1, 2`);
    const found: string[] = [];
    for (const { table_name: table, column_name: column } of columns) {
      const [hit] = await rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)} t, unnest(${`{${values.map((v) => JSON.stringify(v)).join(',')}}`}::text[]) v
        where strpos(lower(t.${sql.identifier(column)}::text), lower(v)) > 0`);
      if (hit!.n > 0) found.push(`${table}.${column}`);
    }
    return found;
  }

  async function approver() {
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles: [] });
    const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id });
    return { email: user.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }

  const approvalJourney = (assignee: string) => h.publish({ steps: [
    { id: 'hello', type: 'send_email', subject: 'Hello {{ contact.firstName }}', text: 'Dear {{ contact.firstName }} {{ contact.lastName }} of {{ contact.company }}', next: 'call' },
    { id: 'call', type: 'approval', title: 'Call {{ contact.firstName }} {{ contact.lastName }}', description: 'Phone {{ contact.phone }}',
      assignee: { user: assignee }, fields: [{ name: 'note', label: 'Note', type: 'long_text' }], expireAfter: '1h', onApprove: 'done', onReject: 'done', onExpire: 'done' },
    { id: 'done', type: 'update_contact', addTags: ['called'] },
  ] });
  type Item = Record<string, any> & { section: string };
  /** The whole export, `limit` items a page, following nextCursor; each page within its limit. */
  async function exportAll(contactId: string, limit: number): Promise<{ contact: Record<string, unknown>; items: Item[]; pages: number }> {
    const items: Item[] = [];
    let after: string | null = null;
    let contact: Record<string, unknown> = {};
    let pages = 0;
    do {
      const page: { status: number; body: { contact: Record<string, unknown>; items: Item[]; nextCursor: string | null } } = await h.api('GET', `/v1/contacts/${contactId}/export?limit=${limit}${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(limit);
      ({ contact } = page.body);
      items.push(...page.body.items);
      after = page.body.nextCursor;
      pages += 1;
    } while (after);
    return { contact, items, pages };
  }

  const taskOf = (enrolmentId: string) => eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolmentId)))[0]);

  it('names every table of the schema: cleared by a step, or holding no contact data', async () => {
    const tables = (await rows<{ table_name: string }>(sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`))
      .map((t) => t.table_name).sort();
    const named = [...new Set([...ERASURE_STEPS.map((s) => s.table), ...Object.keys(TABLES_WITHOUT_CONTACT_DATA)])].sort();
    expect(named).toEqual(tables);
  });

  it('leaves no trace of the contact in any table, cancels its enrolments, refuses its id and keeps the chains verifiable', async () => {
    const token = randomUUID().slice(0, 8);
    const person = {
      email: `ada.${token}@example.test`, externalId: `crm-${token}`, firstName: `Ada${token}`, lastName: `Lovelace${token}`,
      phone: `+44 20 ${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`, company: `Engines ${token}`, title: `Countess ${token}`, attributes: { favourite: `Bernoulli-${token}` },
    };
    const note = `prefers mornings ${token}-note`;
    const comment = `spoke to the countess ${token}-comment`;
    const created = await h.api('POST', '/v1/contacts', {
      ...person, consents: [{ channel: 'email', topic: 'marketing', status: 'granted', source: 'signup form', evidence: { formId: `form-${token}`, note: `met ${person.firstName} at the fair` } }],
    });
    expect(created.status).toBe(201);
    const contactId = created.body.id as string;
    const who = await approver();

    // One enrolment waits on its approval task; another is decided (values and comment) and completes.
    const waiting = (await h.api('POST', `/v1/journeys/${await approvalJourney(who.email)}/enrolments`, { contactId, idempotencyKey: `signup:${person.email}` })).body;
    const decided = (await h.api('POST', `/v1/journeys/${await approvalJourney(who.email)}/enrolments`, { contactId })).body;
    await taskOf(waiting.id);
    const task = await taskOf(decided.id);
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { note }, comment }, who.auth)).status).toBe(200);
    expect(await h.result(decided.workflowId)).toMatchObject({ status: 'completed' });
    expect((await h.api('POST', '/v1/events', { contactId, name: 'visited', properties: { page: `/pricing?who=${person.firstName}`, favourite: person.attributes.favourite } })).status).toBe(202);
    expect((await h.api('POST', '/v1/email/feedback', { type: 'bounce', email: person.email, bounceType: 'hard' })).status).toBe(202);

    const values = [person.email, person.externalId, person.firstName, person.lastName, person.phone, person.company, person.title, person.attributes.favourite, note, comment];
    const before = await whereFound(values);
    expect(before).toEqual(expect.arrayContaining([
      'contacts.email', 'contacts.attributes', 'consent_history.evidence', 'enrolments.idempotency_key', 'events.properties',
      'outgoing_emails.to_address', 'outgoing_emails.subject', 'outgoing_emails.text_body', 'suppressions.email',
      'tasks.title', 'tasks.description', 'tasks.values', 'tasks.comment',
    ]));
    // The audit trail never held any of it: ids and digests only.
    expect(before.filter((c) => c.startsWith('audit_records.'))).toEqual([]);
    // The runtime role may only append to the consent history; its redaction works for an erased contact only.
    await expect(h.database.db.execute(sql`select nurture_erase_consent_history(${contactId}::uuid)`)).rejects.toThrow();
    await expect(h.database.db.execute(sql`delete from consent_history where contact_id = ${contactId}`)).rejects.toThrow();

    // Art. 15: the export holds all of it, the same page by page as in one page.
    const exported = await exportAll(contactId, 3);
    expect(exported.pages).toBeGreaterThan(3);
    expect(exported.contact).toMatchObject({ email: person.email, firstName: person.firstName, phone: person.phone, attributes: person.attributes });
    const whole = await h.api('GET', `/v1/contacts/${contactId}/export?limit=1000`);
    expect(whole.body).toMatchObject({ erased: false, nextCursor: null });
    expect(whole.body.items).toEqual(exported.items);
    const section = (name: string) => exported.items.filter((i) => i.section === name);
    expect(section('consent')).toEqual([expect.objectContaining({ channel: 'email', topic: 'marketing', status: 'granted' })]);
    expect(section('consent_change')).toEqual([expect.objectContaining({ evidence: expect.objectContaining({ formId: `form-${token}` }) })]);
    expect(section('event')).toEqual([expect.objectContaining({ name: 'visited', properties: expect.objectContaining({ favourite: person.attributes.favourite }) })]);
    expect(section('enrolment').map((e) => e.id).sort()).toEqual([waiting.id, decided.id].sort());
    expect(section('enrolment').find((e) => e.id === decided.id)!.path.map((p: { action: string }) => p.action))
      .toEqual(expect.arrayContaining(['enrolment.started', 'email.sent', 'task.created', 'task.decided', 'enrolment.completed']));
    expect(section('email').map((e) => [e.toAddress, e.subject])).toEqual([[person.email, `Hello ${person.firstName}`], [person.email, `Hello ${person.firstName}`]]);
    expect(section('task').find((t) => t.id === task.id)).toMatchObject({ title: `Call ${person.firstName} ${person.lastName}`, values: { note }, comment });
    const audited = (await h.api('GET', `/v1/audit?contactId=${contactId}`)).body.records.map((r: { id: number }) => r.id);
    expect(section('audit_record').map((r) => r.id)).toEqual(audited);
    expect((await h.api('GET', `/v1/contacts/${contactId}/export?after=forged`)).status).toBe(422);

    const erased = await h.api('POST', `/v1/contacts/${contactId}/erase`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ contactId, firstTime: true, enrolmentsCancelled: [waiting.id], stillRunning: [] });
    expect(await whereFound(values)).toEqual([]);

    // The running enrolment was cancelled; its task closed.
    expect(await h.result(waiting.workflowId)).toMatchObject({ status: 'cancelled', reason: 'the contact was erased' });
    expect((await h.api('GET', `/v1/enrolments/${waiting.id}`)).body.status).toBe('cancelled');
    // The tombstone: id and erasedAt; nothing else.
    const [tombstone] = await h.database.db.select().from(contacts).where(eq(contacts.id, contactId));
    expect(tombstone).toMatchObject({ email: null, externalId: null, firstName: null, lastName: null, phone: null, attributes: {}, tags: [], erasedAt: expect.any(Date) });
    // Its consent changes stay, redacted: what changed when, not where it came from.
    expect(await rows(sql`select status, source, evidence from consent_history where contact_id = ${contactId}`))
      .toEqual([{ status: 'granted', source: 'erased', evidence: {} }]);

    // Every chain of the contact verifies; the erasure is in the contact's chain, without personal data.
    const ids = (await h.database.db.select({ id: enrolments.id }).from(enrolments).where(eq(enrolments.contactId, contactId))).map((e) => e.id);
    for (const chain of [`contact:${contactId}`, ...ids.map((id) => `enrolment:${id}`)]) {
      expect({ chain, ...(await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(chain)}`)).body }).toMatchObject({ chain, ok: true });
    }
    const records = (await h.api('GET', `/v1/audit?contactId=${contactId}`)).body.records as Array<{ id: number; action: string; actor: string; details: Record<string, unknown> }>;
    const erasure = records.filter((r) => r.action === 'contact.erased');
    expect(erasure).toHaveLength(1);
    expect(erasure[0]).toMatchObject({ id: erased.body.auditRecord.id, actor: expect.stringMatching(/^api_key:/) });
    expect(erasure[0]!.details.categories).toEqual(expect.arrayContaining(['contact', 'consents', 'consent_history', 'events', 'emails', 'tasks', 'enrolment_keys', 'suppression_address']));

    // Its export is the tombstone.
    expect((await h.api('GET', `/v1/contacts/${contactId}/export`)).body)
      .toEqual({ contact: { id: contactId, erasedAt: erased.body.erasedAt }, erased: true, items: [], nextCursor: null });

    // Again: nothing changes, nothing is recorded twice.
    const again = await h.api('POST', `/v1/contacts/${contactId}/erase`);
    expect(again.body).toMatchObject({ firstTime: false, erasedAt: erased.body.erasedAt, auditRecord: { id: erased.body.auditRecord.id } });
    expect(Object.values(again.body.tables as Record<string, number>).every((n) => n === 0)).toBe(true);

    // The id is refused everywhere: read, change, events, enrolment.
    const refused = [
      await h.api('GET', `/v1/contacts/${contactId}`), await h.api('PATCH', `/v1/contacts/${contactId}`, { firstName: 'Back' }),
      await h.api('POST', '/v1/events', { contactId, name: 'visited', properties: {} }),
      await h.api('POST', `/v1/journeys/${await approvalJourney(who.email)}/enrolments`, { contactId }),
    ];
    expect(refused.map((r) => [r.status, r.body.error.code])).toEqual(Array(4).fill([410, 'contact_erased']));

    // The bounce still suppresses the address (kept as its digest) when it comes back as a new contact.
    const newcomer = (await h.api('POST', `/v1/journeys/${await h.publish({ steps: [{ id: 'hi', type: 'send_email', subject: 'Hi', text: 'Hi' }] })}/enrolments`,
      { contact: { email: person.email } })).body;
    expect(newcomer.contactId).not.toBe(contactId);
    await h.result(newcomer.workflowId);
    const [email] = await h.database.db.select().from(outgoingEmails).where(eq(outgoingEmails.enrolmentId, newcomer.id));
    expect(email).toMatchObject({ status: 'skipped', skipReason: 'suppressed' });
  });

  it('a step of an enrolment whose contact was erased under it fails permanently', async () => {
    const key = await h.publish({ steps: [{ id: 'pause', type: 'wait', duration: '2s', next: 'hello' }, { id: 'hello', type: 'send_email', subject: 'Hi', text: 'Hi' }] });
    const e = (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } })).body;
    // As if the erasure's mark came while this run slipped past its cancellation.
    await h.database.db.update(contacts).set({ erasedAt: new Date() }).where(eq(contacts.id, e.contactId));
    expect(await h.result(e.workflowId)).toMatchObject({ status: 'failed', reason: expect.stringContaining('does not exist (deleted or erased)') });
  });
});
