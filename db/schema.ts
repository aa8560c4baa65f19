import { sql } from 'drizzle-orm';
import {
  bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/** The CRM of record: one row per person a journey can reach. */
export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email'),
    externalId: text('external_id'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    company: text('company'),
    title: text('title'),
    phone: text('phone'),
    /** The channel the contact prefers (`send_message` steps with `channel: "preferred"`); null: email. */
    preferredChannel: text('preferred_channel').$type<MessageChannel>(),
    locale: text('locale'),
    timezone: text('timezone'),
    owner: text('owner'),
    lifecycleStage: text('lifecycle_stage').notNull().default('subscriber'),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    score: integer('score').notNull().default(0),
    /** A sandbox contact of a test run: never in segments, triggers or lists. */
    test: boolean('test').notNull().default(false),
    /**
     * Set when the contact was erased (GDPR Art. 17): the row stays as a tombstone (its id, this
     * time, nothing personal) so enrolments, emails and audit chains keep their references, and
     * the id is never enrolled, changed or emailed again (services/contacts/erasure.ts).
     */
    erasedAt: timestamp('erased_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('contacts_email_key').on(t.email),
    uniqueIndex('contacts_external_id_key').on(t.externalId),
  ],
);

/** Consent per channel and topic, with where it came from and when. */
export const contactConsents = pgTable(
  'contact_consents',
  {
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    channel: text('channel').notNull(),
    topic: text('topic').notNull(),
    status: text('status').$type<'granted' | 'denied'>().notNull(),
    source: text('source').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    /** The consent_history row that set this state: the proof behind it. */
    historyId: bigint('history_id', { mode: 'number' }),
  },
  (t) => [primaryKey({ columns: [t.contactId, t.channel, t.topic] })],
);

/** Where a consent change came in: the API, an import (inline or bulk upserts), an unsubscribe link, the email provider's feedback. */
export type ConsentVia = 'api' | 'import' | 'unsubscribe' | 'provider_feedback' | 'backfill';

/**
 * The consent ledger: every change of a contact's consent, appended, never changed (the runtime
 * role may only insert and read it, deploy/postgres/roles.sql). Each row holds the state before
 * and after, where and from whom it came, and its evidence (a form or import id, an
 * unsubscribe's client address and user agent, a re-consent's proof), so a grant can be proven.
 */
export const consentHistory = pgTable(
  'consent_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    channel: text('channel').notNull(),
    topic: text('topic').notNull(),
    /** The row this one follows for the same channel and topic; null for the first. */
    previousId: bigint('previous_id', { mode: 'number' }),
    beforeStatus: text('before_status').$type<'granted' | 'denied'>(),
    beforeSource: text('before_source'),
    status: text('status').$type<'granted' | 'denied'>().notNull(),
    source: text('source').notNull(),
    /** Who made the choice: the contact (a form, an unsubscribe, a complaint) or the business on its own. */
    madeBy: text('made_by').$type<'contact' | 'business'>().notNull(),
    via: text('via').$type<ConsentVia>().notNull(),
    /** The API key (`api_key:<id>`), `contact`, `provider` or `system`. */
    actor: text('actor').notNull(),
    evidence: jsonb('evidence').$type<Record<string, unknown>>().notNull().default({}),
    /** A grant that overrode the contact's own denial, with its proof: `{ evidence, at }`. */
    reconsent: jsonb('reconsent').$type<{ evidence: string; at: string }>(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('consent_history_contact_idx').on(t.contactId, t.id)],
);

/** Addresses never to email again (hard bounces, complaints, manual). */
export const suppressions = pgTable('suppressions', {
  email: text('email').primaryKey(),
  reason: text('reason').$type<'hard_bounce' | 'complaint' | 'manual'>().notNull(),
  source: text('source').notNull(),
  createdAt: createdAt(),
});

/** Versioned email templates (Liquid): a journey pins the version it was published with. */
export const emailTemplates = pgTable(
  'email_templates',
  {
    key: text('key').notNull(),
    version: integer('version').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html'),
    createdAt: createdAt(),
    /** Only approved versions are pinned by a journey publish (and so sent); under a review policy a new version waits for its review run. */
    status: text('status').$type<TemplateVersionStatus>().notNull().default('approved'),
    /** Who saved this version (`user:<id>` or `api_key:<id>`; null before this was recorded): they cannot approve its review. */
    savedBy: text('saved_by'),
    /** The review process and its run, when the version was saved under a review policy. */
    reviewProcess: text('review_process'),
    reviewRunId: uuid('review_run_id'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.key, t.version] })],
);

export type TemplateVersionStatus = 'pending_review' | 'approved' | 'rejected';

/** A template's review policy: the process whose run must approve each new version (besides TEMPLATE_REVIEW_PROCESS). */
export const templateReviewPolicies = pgTable('template_review_policies', {
  key: text('key').primaryKey(),
  reviewProcess: text('review_process').notNull(),
  setBy: text('set_by').notNull(),
  createdAt: createdAt(),
});

/** Round-robin position of each owner pool. */
export const ownerPools = pgTable('owner_pools', {
  key: text('key').primaryKey(),
  nextIndex: integer('next_index').notNull().default(0),
});

/** The webhook ledger: claimed before the request, settled after (as outgoing_emails). */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  url: text('url').notNull(),
  status: text('status').$type<'sending' | 'delivered' | 'retry' | 'unknown' | 'rejected'>().notNull(),
  responseStatus: integer('response_status'),
  attempts: integer('attempts').notNull().default(1),
  createdAt: createdAt(),
  deliveredAt: timestamp('delivered_at', { withTimezone: true }),
});

/** A journey: its key, its editable draft, and whether it takes new enrolments. */
export const journeys = pgTable('journeys', {
  id: uuid('id').primaryKey().defaultRandom(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  status: text('status').$type<'active' | 'paused'>().notNull().default('active'),
  draft: jsonb('draft').$type<unknown>().notNull(),
  latestVersion: integer('latest_version'),
  /** The latest version's trigger, so events and contact changes find their journeys fast. */
  triggerType: text('trigger_type').$type<'api' | 'event' | 'segment' | 'schedule'>(),
  triggerEvent: text('trigger_event'),
  /** Who last wrote the draft: `user:<id>` (a key bound to a user) or `api_key:<id>`; four eyes reads it. */
  draftEditedBy: text('draft_edited_by'),
  /** The process whose run must approve a version before it goes live (besides JOURNEY_REVIEW_PROCESS). */
  reviewProcess: text('review_process'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [index('journeys_trigger_idx').on(t.triggerType, t.triggerEvent)]);

/** An immutable, numbered, published journey definition. */
export const journeyVersions = pgTable(
  'journey_versions',
  {
    journeyId: uuid('journey_id').notNull().references(() => journeys.id),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<unknown>().notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.journeyId, t.version] })],
);

/** A test run: a journey version or draft run with sandbox contacts and scripted events, in compressed time. */
export const testRuns = pgTable('test_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  journeyKey: text('journey_key').notNull(),
  version: integer('version'),
  timeScale: integer('time_scale').notNull(),
  definition: jsonb('definition').$type<unknown>().notNull(),
  contacts: jsonb('contacts').$type<Array<{ ref: string; contactId: string; enrolmentId: string; workflowId: string }>>().notNull().default([]),
  createdAt: createdAt(),
});

/** Events from POST /v1/events (and engagement tracking), stored once per de-duplication key. */
export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    dedupeKey: text('dedupe_key').notNull().unique(),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    name: text('name').notNull(),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [index('events_contact_name_idx').on(t.contactId, t.name)],
);

export type EnrolmentStatus = 'running' | 'completed' | 'exited' | 'converted' | 'cancelled' | 'failed';

/** One contact's run through one journey version; one Temporal workflow each. */
export const enrolments = pgTable(
  'enrolments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    journeyId: uuid('journey_id').notNull().references(() => journeys.id),
    journeyKey: text('journey_key').notNull(),
    journeyVersion: integer('journey_version').notNull(),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    sequence: integer('sequence').notNull(),
    workflowId: text('workflow_id').notNull().unique(),
    idempotencyKey: text('idempotency_key'),
    status: text('status').$type<EnrolmentStatus>().notNull().default('running'),
    currentStep: text('current_step'),
    /** Part of a test run: sandboxed, left out of the stats. */
    testRunId: uuid('test_run_id'),
    /**
     * The event that started the enrolment (an event trigger), which its steps read as `trigger.*`.
     * No foreign key: an erasure deletes the contact's events, and then the enrolment has no trigger facts.
     */
    triggerEventId: uuid('trigger_event_id'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('enrolments_journey_contact_sequence_key').on(t.journeyId, t.contactId, t.sequence),
    uniqueIndex('enrolments_journey_idempotency_key').on(t.journeyId, t.idempotencyKey),
    index('enrolments_contact_idx').on(t.contactId),
  ],
);

/**
 * sending: claimed, in flight; sent/captured: done; retry: the last attempt failed cleanly and may
 * be sent again; unknown: an attempt died mid-send, so it is never resent (at most once).
 */
export type OutgoingEmailStatus = 'sending' | 'sent' | 'captured' | 'retry' | 'unknown' | 'skipped';

/** The send ledger: written before an email leaves, marked after; the key makes retries safe. */
export const outgoingEmails = pgTable(
  'outgoing_emails',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    enrolmentId: uuid('enrolment_id').references(() => enrolments.id),
    /** Null for a notice to someone who is no contact (an approver's task link). */
    contactId: uuid('contact_id').references(() => contacts.id),
    stepId: text('step_id'),
    toAddress: text('to_address').notNull(),
    fromAddress: text('from_address').notNull(),
    subject: text('subject').notNull(),
    textBody: text('text_body').notNull(),
    htmlBody: text('html_body'),
    status: text('status').$type<OutgoingEmailStatus>().notNull().default('sending'),
    providerMessageId: text('provider_message_id'),
    category: text('category').$type<'marketing' | 'transactional'>().notNull().default('marketing'),
    skipReason: text('skip_reason'),
    consentState: text('consent_state'),
    templateKey: text('template_key'),
    templateVersion: integer('template_version'),
    /** What the send-time checks found (services/email/policy.ts), kept as it was then: the evidence of this send. */
    evidence: jsonb('evidence').$type<Record<string, unknown>>(),
    attempts: integer('attempts').notNull().default(1),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('outgoing_emails_contact_idx').on(t.contactId, t.sentAt)],
);

/** The channels a `send_message` step can use. */
export type MessageChannel = 'email' | 'sms';

/**
 * sending: claimed, in flight; sent/captured: done; failed: the provider refused it for good (a
 * 4xx); retry: the last attempt failed cleanly (5xx, timeout) and may be sent again; unknown: an
 * attempt died mid-send, so it is never resent (at most once).
 */
export type OutgoingSmsStatus = 'sending' | 'sent' | 'captured' | 'failed' | 'retry' | 'unknown';

/** The SMS ledger, as outgoing_emails is for email: one row per send (workflow id + step id + visit). */
export const outgoingSms = pgTable(
  'outgoing_sms',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    enrolmentId: uuid('enrolment_id').references(() => enrolments.id),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    stepId: text('step_id'),
    toNumber: text('to_number').notNull(),
    fromNumber: text('from_number').notNull(),
    body: text('body').notNull(),
    status: text('status').$type<OutgoingSmsStatus>().notNull().default('sending'),
    providerMessageId: text('provider_message_id'),
    /** Why the provider refused it for good (its status and code). */
    failure: text('failure'),
    consentState: text('consent_state'),
    attempts: integer('attempts').notNull().default(1),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('outgoing_sms_contact_idx').on(t.contactId, t.sentAt)],
);

/** CRM writes and other effects already applied, keyed by workflow id + step id. */
export const appliedEffects = pgTable('applied_effects', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  kind: text('kind').notNull(),
  result: jsonb('result').$type<unknown>(),
  appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * What a journey did, to whom, when and why. Append-only (the database refuses UPDATE, DELETE and
 * TRUNCATE) and hash-chained: each record carries the hash of its predecessor in its chain (one
 * chain per enrolment, else per contact), so concurrent journeys never wait on one another.
 */
export const auditRecords = pgTable(
  'audit_records',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    contactId: uuid('contact_id'),
    journeyKey: text('journey_key'),
    journeyVersion: integer('journey_version'),
    enrolmentId: uuid('enrolment_id'),
    workflowId: text('workflow_id'),
    stepId: text('step_id'),
    stepType: text('step_type'),
    idempotencyKey: text('idempotency_key').unique(),
    outcome: text('outcome').notNull(),
    providerMessageId: text('provider_message_id'),
    consentState: text('consent_state'),
    templateVersion: text('template_version'),
    test: boolean('test').notNull().default(false),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    chain: text('chain'),
    seq: integer('seq'),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    index('audit_records_enrolment_idx').on(t.enrolmentId, t.id),
    index('audit_records_contact_idx').on(t.contactId, t.id),
    index('audit_records_journey_idx').on(t.journeyKey, t.id),
    uniqueIndex('audit_records_chain_seq_key').on(t.chain, t.seq),
  ],
);

/**
 * Background verifications of the audit chains against the latest signed checkpoint
 * (services/audit/verifications.ts): each pages through the chains in its own workflow, keeping
 * where it is (`page`, `cursor`) and what it found so far (`report`) here.
 */
export const auditVerifications = pgTable('audit_verifications', {
  id: uuid('id').primaryKey().defaultRandom(),
  status: text('status').$type<'running' | 'completed' | 'failed'>().notNull().default('running'),
  requestedBy: text('requested_by'),
  requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
  page: integer('page').notNull().default(0),
  cursor: jsonb('cursor').$type<Record<string, unknown>>().notNull(),
  report: jsonb('report').$type<Record<string, unknown>>().notNull(),
  error: text('error'),
}, (t) => [index('audit_verifications_finished_idx').on(t.status, t.finishedAt)]);

/** People who approve tasks; roles group them (an approval may go to a role). */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  roles: text('roles').array().notNull().default(sql`'{}'::text[]`),
  createdAt: createdAt(),
});

export type ApiScope = 'admin' | 'service' | 'approver';

/** API keys, stored as SHA-256 hashes; shown once at creation. Approver keys act as one user. */
export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  prefix: text('prefix').notNull().unique(),
  hash: text('hash').notNull(),
  scopes: text('scopes').array().$type<ApiScope[]>().notNull(),
  userId: uuid('user_id').references(() => users.id),
  createdAt: createdAt(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** `accepted`: a task step's holder accepted it and is yet to complete it (journey approvals skip it). */
export type TaskStatus = 'open' | 'accepted' | 'deciding' | 'approved' | 'rejected' | 'expired' | 'cancelled';

/** Approval tasks: the form an approver fills, the journey waits for. */
export const tasks = pgTable(
  'tasks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    enrolmentId: uuid('enrolment_id').notNull(),
    workflowId: text('workflow_id').notNull(),
    stepId: text('step_id').notNull(),
    journeyKey: text('journey_key').notNull(),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    title: text('title').notNull(),
    description: text('description'),
    assigneeUserId: uuid('assignee_user_id').references(() => users.id),
    assigneeRole: text('assignee_role'),
    escalationUserId: uuid('escalation_user_id').references(() => users.id),
    escalationRole: text('escalation_role'),
    fields: jsonb('fields').$type<unknown[]>().notNull().default([]),
    status: text('status').$type<TaskStatus>().notNull().default('open'),
    dueAt: timestamp('due_at', { withTimezone: true }),
    remindedAt: timestamp('reminded_at', { withTimezone: true }),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    decision: text('decision').$type<'approve' | 'reject'>(),
    values: jsonb('values').$type<Record<string, unknown>>(),
    comment: text('comment'),
    decidedBy: uuid('decided_by').references(() => users.id),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    /** When the running decision claimed the task (`deciding`): a claim older than a minute was left by a crash. */
    decidingSince: timestamp('deciding_since', { withTimezone: true }),
    /** The journey step that opened it: `approval`, or `task` (a handoff, which its holder accepts before completing). */
    stepType: text('step_type').$type<'approval' | 'task'>().notNull().default('approval'),
    /** A task step's acceptance deadline (null: the task needs no acceptance, as every approval and task steps before it). */
    acceptBy: timestamp('accept_by', { withTimezone: true }),
    acceptedBy: uuid('accepted_by').references(() => users.id),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    /** A test run's task: nobody real is emailed, and it stays out of approvers' inboxes and the metrics. */
    test: boolean('test').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index('tasks_assignee_idx').on(t.assigneeUserId, t.status), index('tasks_role_idx').on(t.assigneeRole, t.status)],
);

/**
 * Journey results, kept incrementally: one counter per journey version, step (`''` for the
 * version as a whole), metric and label (an exit or skip reason, a variant, an end status; `''`
 * for none). A trigger on audit_records adds to them in the append's own transaction
 * (`results_count` in migration 0014), so the stats never rescan the audit.
 */
export const resultCounters = pgTable('result_counters', {
  journeyKey: text('journey_key').notNull(),
  journeyVersion: integer('journey_version').notNull(),
  stepId: text('step_id').notNull(),
  metric: text('metric').notNull(),
  label: text('label').notNull(),
  n: bigint('n', { mode: 'number' }).notNull(),
}, (t) => [primaryKey({ columns: [t.journeyKey, t.journeyVersion, t.stepId, t.metric, t.label] })]);

/**
 * What the counters need to count each enrolment once per step: whether it entered the step,
 * went on from it, opened or clicked its email, and which variant a split gave it (for
 * conversions per variant). Written only by the `results_count` trigger.
 */
export const resultPasses = pgTable('result_passes', {
  enrolmentId: uuid('enrolment_id').notNull(),
  stepId: text('step_id').notNull(),
  journeyKey: text('journey_key').notNull(),
  journeyVersion: integer('journey_version').notNull(),
  entered: boolean('entered').notNull().default(false),
  wentOn: boolean('went_on').notNull().default(false),
  opened: boolean('opened').notNull().default(false),
  clicked: boolean('clicked').notNull().default(false),
  variant: text('variant'),
}, (t) => [primaryKey({ columns: [t.enrolmentId, t.stepId] })]);

/** Single-use, expiring links to a task's form, emailed to its approvers. */
export const taskLinks = pgTable('task_links', {
  id: uuid('id').primaryKey().defaultRandom(),
  taskId: uuid('task_id').notNull().references(() => tasks.id),
  userId: uuid('user_id').notNull().references(() => users.id),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
});

/**
 * A segment: a saved condition over contacts (journey-language/segment-conditions.ts), edited as a
 * draft and published as immutable numbered versions. Membership follows the latest version.
 */
export const segments = pgTable('segments', {
  id: uuid('id').primaryKey().defaultRandom(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  draft: jsonb('draft').$type<unknown>().notNull(),
  latestVersion: integer('latest_version'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** An immutable, published segment condition. */
export const segmentVersions = pgTable(
  'segment_versions',
  {
    segmentId: uuid('segment_id').notNull().references(() => segments.id),
    version: integer('version').notNull(),
    condition: jsonb('condition').$type<unknown>().notNull(),
    /** Membership can change with time alone: re-evaluated on a schedule. */
    timeRelative: boolean('time_relative').notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.version] })],
);

/** Who is in a segment now (as its `version` decided). */
export const segmentMemberships = pgTable(
  'segment_memberships',
  {
    segmentId: uuid('segment_id').notNull().references(() => segments.id),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    version: integer('version').notNull(),
    enteredAt: timestamp('entered_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.contactId] }), index('segment_memberships_contact_idx').on(t.contactId)],
);

/**
 * Every entry into and exit from a segment, written in the same statement as the membership
 * change (so a retried write records it once, and never loses it): an outbox that the segment
 * events (`segment.entered` / `segment.left`, de-duplicated by the change's id) drain.
 */
export const segmentChanges = pgTable(
  'segment_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    segmentId: uuid('segment_id').notNull().references(() => segments.id),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    kind: text('kind').$type<'entered' | 'left'>().notNull(),
    version: integer('version').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [index('segment_changes_pending_idx').on(t.contactId, t.id).where(sql`processed_at is null`)],
);

export type ContactRow = typeof contacts.$inferSelect;
export type JourneyRow = typeof journeys.$inferSelect;
export type EnrolmentRow = typeof enrolments.$inferSelect;
export type AuditRecordRow = typeof auditRecords.$inferSelect;
export type AuditVerificationRow = typeof auditVerifications.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type TemplateRow = typeof emailTemplates.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type TaskRow = typeof tasks.$inferSelect;
export type ResultCounterRow = typeof resultCounters.$inferSelect;
export type ConsentHistoryRow = typeof consentHistory.$inferSelect;

/** A process (docs/processes.md): its key, its editable draft and its latest published version. */
export const processes = pgTable('processes', {
  id: uuid('id').primaryKey().defaultRandom(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  draft: jsonb('draft').$type<unknown>().notNull(),
  latestVersion: integer('latest_version'),
  /** The event name the latest version starts on (`startOn.event`), so an event finds its processes by index. */
  startEvent: text('start_event'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [index('processes_start_event_idx').on(t.startEvent)]);

/** An immutable, numbered, published process definition. */
export const processVersions = pgTable(
  'process_versions',
  {
    processId: uuid('process_id').notNull().references(() => processes.id),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<unknown>().notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.processId, t.version] })],
);

export type ProcessRunStatus = 'running' | 'completed' | 'rejected';

/** One run of one process version: one Temporal workflow (`process:<key>:<runId>`), no contact. */
export const processRuns = pgTable('process_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  processId: uuid('process_id').notNull().references(() => processes.id),
  processKey: text('process_key').notNull(),
  version: integer('version').notNull(),
  workflowId: text('workflow_id').notNull().unique(),
  inputs: jsonb('inputs').$type<Record<string, unknown>>().notNull().default({}),
  status: text('status').$type<ProcessRunStatus>().notNull().default('running'),
  /** Who or what started it: `api_key:<id>`, `schedule:<schedule id>` or `event:<event id>`. */
  startedBy: text('started_by').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  endedAt: timestamp('ended_at', { withTimezone: true }),
}, (t) => [index('process_runs_key_idx').on(t.processKey, t.startedAt)]);

/** A task of a process run, once it opened or was skipped (journey approvals stay in `tasks`). */
export const processTasks = pgTable(
  'process_tasks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    runId: uuid('run_id').notNull().references(() => processRuns.id),
    taskId: text('task_id').notNull(),
    kind: text('kind').$type<'checklist' | 'form' | 'approval'>().notNull(),
    title: text('title').notNull(),
    status: text('status').$type<'open' | 'done' | 'approved' | 'rejected' | 'skipped' | 'cancelled'>().notNull(),
    /**
     * Who may act, resolved when it opened: one entry per assignee or approver (empty: anyone); a
     * sequential approval's are its current stage's (`stage`), a round-robin pick names its `rotation`.
     */
    assignees: jsonb('assignees').$type<Array<{ userIds: string[]; role?: string; stage?: number; rotation?: string }>>().notNull().default([]),
    /** Each approver's decision, in order (with its stage, in a sequential approval). */
    decisions: jsonb('decisions').$type<Array<{ userId: string; decision: 'approve' | 'reject'; at: string; comment?: string; stage?: number }>>().notNull().default([]),
    values: jsonb('values').$type<Record<string, unknown>>(),
    completedBy: uuid('completed_by').references(() => users.id),
    dueAt: timestamp('due_at', { withTimezone: true }),
    overdueAt: timestamp('overdue_at', { withTimezone: true }),
    openedAt: timestamp('opened_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('process_tasks_run_task_key').on(t.runId, t.taskId)],
);

export type ProcessRow = typeof processes.$inferSelect;
export type ProcessRunRow = typeof processRuns.$inferSelect;
export type ProcessTaskRow = typeof processTasks.$inferSelect;
export type SegmentRow = typeof segments.$inferSelect;
export type SegmentChangeRow = typeof segmentChanges.$inferSelect;

export type JourneyReviewOutcome = 'pending' | 'published' | 'rejected' | 'refused';

/**
 * A review of a journey's draft by a process run: publishing a journey under a review policy
 * starts one, and the run's end publishes exactly the reviewed draft (by digest) or records why not.
 */
export const journeyReviews = pgTable('journey_reviews', {
  /** The review's process run (written first, so no foreign key: a run that fails to start takes its review away). */
  runId: uuid('run_id').primaryKey(),
  journeyId: uuid('journey_id').notNull().references(() => journeys.id),
  journeyKey: text('journey_key').notNull(),
  processKey: text('process_key').notNull(),
  /** The version the draft would become when it was reviewed. */
  version: integer('version').notNull(),
  /** SHA-256 of the draft under review: a draft changed since is not published. */
  digest: text('digest').notNull(),
  editedBy: text('edited_by').notNull(),
  requestedBy: text('requested_by').notNull(),
  outcome: text('outcome').$type<JourneyReviewOutcome>().notNull().default('pending'),
  reason: text('reason'),
  publishedVersion: integer('published_version'),
  createdAt: createdAt(),
  decidedAt: timestamp('decided_at', { withTimezone: true }),
}, (t) => [
  index('journey_reviews_journey_idx').on(t.journeyId, t.createdAt),
  // One pending review per draft: publishing it twice at once starts one run.
  uniqueIndex('journey_reviews_pending_key').on(t.journeyId, t.digest).where(sql`outcome = 'pending'`),
]);

export type JourneyReviewRow = typeof journeyReviews.$inferSelect;
