import { and, eq, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { contactConsents, contacts, enrolments, events, outgoingEmails, outgoingSms, suppressions, tasks } from '../../db/schema';
import { digestOf } from '../audit/records';

/** The contact an erasure works on, as it was when the erasure began. */
export interface ErasureSubject {
  contactId: string;
  /** Its address (null once an earlier, interrupted erasure cleared it). */
  email: string | null;
}

/**
 * One table's part of an erasure (GDPR Art. 17): removes the contact's personal data from
 * `table` and answers how many rows it changed (none on a repeat). The steps run in order, in
 * one transaction that holds the contact's row. A table that comes to hold contact data is one
 * more entry here; test/integration/erasure.test.ts fails for a table that is neither here nor in
 * TABLES_WITHOUT_CONTACT_DATA.
 */
export interface ErasureStep {
  table: string;
  /** What the erasure record names as erased (categories, never values). */
  category: string;
  run(tx: Database, subject: ErasureSubject): Promise<number>;
}

const counted = (rows: unknown[]) => rows.length;

/** The ledger rows of notices to approvers about the contact's tasks: their keys extend the task's. */
const noticeOfContactTask = (contactId: string) => sql`exists (select 1 from ${tasks} t where t.contact_id = ${contactId}
  and left(${outgoingEmails.idempotencyKey}, length(t.idempotency_key) + 1) = t.idempotency_key || ':')`;

const hasContent = or(ne(outgoingEmails.subject, ''), ne(outgoingEmails.textBody, ''), isNotNull(outgoingEmails.htmlBody));

export const ERASURE_STEPS: readonly ErasureStep[] = [
  {
    // The send ledger keeps what was sent when and why (status, consent state, evidence, provider
    // id); the address and the content go. Notices to approvers quote a task's title: their
    // content goes too, the approver's address stays (an employee's, not the contact's).
    table: 'outgoing_emails', category: 'emails',
    async run(tx, { contactId }) {
      const own = await tx.update(outgoingEmails).set({ toAddress: '', subject: '', textBody: '', htmlBody: null })
        .where(and(eq(outgoingEmails.contactId, contactId), or(ne(outgoingEmails.toAddress, ''), hasContent)))
        .returning({ id: outgoingEmails.id });
      const notices = await tx.update(outgoingEmails).set({ subject: '', textBody: '', htmlBody: null })
        .where(and(isNull(outgoingEmails.contactId), noticeOfContactTask(contactId), hasContent))
        .returning({ id: outgoingEmails.id });
      return own.length + notices.length;
    },
  },
  {
    // The SMS ledger, as the email one: what was sent when and why stays; the number and the text go.
    table: 'outgoing_sms', category: 'sms',
    run: async (tx, { contactId }) => counted(await tx.update(outgoingSms).set({ toNumber: '', body: '' })
      .where(and(eq(outgoingSms.contactId, contactId), or(ne(outgoingSms.toNumber, ''), ne(outgoingSms.body, ''))))
      .returning({ id: outgoingSms.id })),
  },
  {
    // Tasks stay (their enrolment's workflow and audit records name them): the title and
    // description rendered from the contact, the approver's values and comment go.
    table: 'tasks', category: 'tasks',
    run: async (tx, { contactId }) => counted(await tx.update(tasks).set({ title: '', description: null, values: null, comment: null })
      .where(and(eq(tasks.contactId, contactId), or(ne(tasks.title, ''), isNotNull(tasks.description), isNotNull(tasks.values), isNotNull(tasks.comment))))
      .returning({ id: tasks.id })),
  },
  {
    table: 'events', category: 'events',
    run: async (tx, { contactId }) => counted(await tx.delete(events).where(eq(events.contactId, contactId)).returning({ id: events.id })),
  },
  {
    // Current consents point at their history rows: they go first.
    table: 'contact_consents', category: 'consents',
    run: async (tx, { contactId }) => counted(await tx.delete(contactConsents).where(eq(contactConsents.contactId, contactId))
      .returning({ topic: contactConsents.topic })),
  },
  {
    // The history's sources and evidence may name the contact (client address, user agent, forms,
    // notes). The runtime role may only append to it (deploy/postgres/roles.sql), so a function
    // that runs as the table's owner, and only for an erased contact, redacts them
    // (db/migrations/0013_contact_erasure.sql): each change stays (channel, topic, before and
    // after status, when, how, by whom), so the evidence of past sends still finds its record.
    table: 'consent_history', category: 'consent_history',
    async run(tx, { contactId }) {
      const result = await tx.execute(sql`select nurture_erase_consent_history(${contactId}::uuid) as n`);
      return Number((result as unknown as { rows: Array<{ n: number }> }).rows[0]!.n);
    },
  },
  {
    // A bounce or complaint still suppresses the address, should it come back as a new contact:
    // the entry is kept under the address's digest (suppressionOf checks both).
    table: 'suppressions', category: 'suppression_address',
    async run(tx, { email }) {
      if (!email) return 0;
      const [entry] = await tx.delete(suppressions).where(eq(suppressions.email, email)).returning();
      if (!entry) return 0;
      await tx.insert(suppressions).values({ ...entry, email: digestOf(email) }).onConflictDoNothing();
      return 1;
    },
  },
  {
    // A caller's idempotency key is free text and may carry an address.
    table: 'enrolments', category: 'enrolment_keys',
    run: async (tx, { contactId }) => counted(await tx.update(enrolments).set({ idempotencyKey: null })
      .where(and(eq(enrolments.contactId, contactId), isNotNull(enrolments.idempotencyKey))).returning({ id: enrolments.id })),
  },
  {
    // The tombstone: the id, when it was created and erased, whether it was a test contact.
    table: 'contacts', category: 'contact',
    run: async (tx, { contactId }) => counted(await tx.update(contacts).set({
      email: null, externalId: null, firstName: null, lastName: null, company: null, title: null, phone: null, preferredChannel: null, locale: null,
      timezone: null, owner: null, lifecycleStage: 'subscriber', attributes: {}, tags: [], score: 0, updatedAt: sql`now()`,
    }).where(and(eq(contacts.id, contactId), sql`(coalesce(${contacts.email}, ${contacts.externalId}, ${contacts.firstName}, ${contacts.lastName},
      ${contacts.company}, ${contacts.title}, ${contacts.phone}, ${contacts.preferredChannel}, ${contacts.locale}, ${contacts.timezone}, ${contacts.owner}) is not null
      or ${contacts.attributes} <> '{}'::jsonb or cardinality(${contacts.tags}) > 0 or ${contacts.score} <> 0 or ${contacts.lifecycleStage} <> 'subscriber')`))
      .returning({ id: contacts.id })),
  },
];

/**
 * Tables that hold no contact data, each with why: the rest of the schema. With ERASURE_STEPS
 * it names every table, so a new one must be placed in one list or the other.
 */
export const TABLES_WITHOUT_CONTACT_DATA: Readonly<Record<string, string>> = {
  audit_records: 'ids and digests only (services/audit/records.ts digestOf); append-only and hash-chained, never changed',
  audit_verifications: 'chain verification runs: counts, chain names, hashes',
  applied_effects: "a journey's CRM writes as its definition states them, and owners assigned (staff)",
  webhook_deliveries: 'the webhook ledger: key, URL from the journey definition, status',
  task_links: 'ids and times of single-use form links',
  journeys: 'journey definitions', journey_versions: 'published journey definitions', email_templates: 'templates (Liquid source, who saved each version: staff)',
  owner_pools: 'round-robin positions', test_runs: "test runs' definitions and sandbox contact ids",
  users: 'staff (approvers), not contacts', api_keys: 'key hashes and scopes',
  segments: 'segment definitions', segment_versions: 'published segment conditions',
  segment_memberships: 'ids only; an erased contact leaves every segment (services/segments/contact-changed.ts)',
  segment_changes: 'ids, kinds and times of entries and exits',
  result_counters: 'per-step counts of a journey version', result_passes: 'enrolment ids and the steps they passed (no contact data)',
  processes: 'process definitions', process_versions: 'published process definitions',
  process_runs: 'runs of team processes: not about a contact (docs/processes.md: keep personal data out of run inputs)',
  process_tasks: "staff tasks of process runs and their answers, not about a contact",
  journey_reviews: 'reviews of journey drafts: run ids, digests, who edited (staff)',
  template_review_policies: 'which process reviews a template\'s new versions (staff)',
};
