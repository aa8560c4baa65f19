import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { contacts, enrolments, outgoingEmails, testRuns } from '../../db/schema';
import { journeyWorkflow, testRunScriptWorkflow, type EnrolmentInput } from '../../workflows/contract';
import { appendAudit, auditForEnrolment } from '../audit/records';
import type { ContactUpsert } from '../contacts/schemas';
import { pinTemplates } from '../email/templates';
import { invalid, notFound } from '../lib/errors';
import { JourneyDefinitionSchema, type JourneyDefinition } from '../../journey-language';
import { getJourney, getVersion } from './journeys';
import { scriptDecisions, type TestRunDecision } from './test-run-decisions';
import { toProblems } from '../lib/validation';

export interface TestRunInput {
  version?: number | 'draft';
  contacts: Array<Omit<ContactUpsert, 'email' | 'externalId' | 'consents'> & { ref: string }>;
  events?: Array<{ ref: string; name: string; properties?: Record<string, unknown>; after: number }>;
  /** Approval decisions, made as the run's sandbox approver once the task is open and `after` has come. */
  decisions?: TestRunDecision[];
  timeScale: number;
}

/**
 * Runs a journey version (or the draft) for sandbox contacts in compressed time: contacts are
 * marked test (no segments, triggers or lists), email is captured, webhooks are not called,
 * approval tasks are test tasks (no approver emailed, in nobody's inbox), owner rotation does not
 * turn, every audit record is marked test, and stats leave it all out. Scripted events arrive at
 * their journey times; scripted decisions are made as the run's sandbox approver.
 */
export async function startTestRun(deps: { db: Database; temporal: Client; taskQueue: string }, key: string, input: TestRunInput) {
  const journey = await getJourney(deps.db, key);
  let definition: JourneyDefinition;
  let version: number | null = null;
  if (input.version === 'draft' || (input.version === undefined && journey.latestVersion === null)) {
    const parsed = JourneyDefinitionSchema.safeParse(journey.draft);
    if (!parsed.success) throw invalid('invalid_definition', `The draft of "${key}" cannot run`, toProblems(parsed.error, 'definition', journey.draft));
    definition = await pinTemplates(deps.db, parsed.data);
  } else {
    version = input.version ?? journey.latestVersion!;
    definition = (await getVersion(deps.db, journey.id, version)).definition;
  }
  const refs = new Set(input.contacts.map((c) => c.ref));
  input.events?.forEach((e, i) => {
    if (!refs.has(e.ref)) throw invalid('invalid_test_run', `event ${i} names an unknown contact "${e.ref}"`, [{ path: `body.events.${i}.ref`, message: 'not one of the contacts' }]);
  });
  const startedAt = Date.now();
  const decisions = scriptDecisions(definition, refs, input.decisions ?? [], { startedAt, timeScale: input.timeScale });
  const runId = randomUUID();
  const short = runId.slice(0, 8);
  const members: Array<{ ref: string; contactId: string; enrolmentId: string; workflowId: string }> = [];
  for (const c of input.contacts) {
    const { ref, ...fields } = c;
    const [contact] = await deps.db.insert(contacts).values({
      ...fields, email: `${ref}+${short}@sandbox.invalid`, externalId: null, test: true, tags: fields.tags ?? [], attributes: fields.attributes ?? {},
    }).returning();
    const workflowId = `test:${runId}:${ref}`;
    const [enrolment] = await deps.db.insert(enrolments).values({
      journeyId: journey.id, journeyKey: key, journeyVersion: version ?? 0, contactId: contact!.id, sequence: 1, workflowId, testRunId: runId,
    }).returning();
    await appendAudit(deps.db, {
      actor: 'test-run', action: 'enrolment.started', outcome: 'started', contactId: contact!.id, journeyKey: key, journeyVersion: version ?? 0,
      enrolmentId: enrolment!.id, workflowId, idempotencyKey: `${workflowId}:enrolled`, test: true, details: { testRunId: runId, ref },
    });
    members.push({ ref, contactId: contact!.id, enrolmentId: enrolment!.id, workflowId });
  }
  await deps.db.insert(testRuns).values({ id: runId, journeyKey: key, version, timeScale: input.timeScale, definition, contacts: members });
  for (const m of members) {
    const args: EnrolmentInput = {
      enrolmentId: m.enrolmentId, journeyKey: key, journeyVersion: version ?? 0, contactId: m.contactId, definition,
      sandbox: { testRunId: runId, timeScale: input.timeScale, decisions: decisions.get(m.ref) },
    };
    await deps.temporal.workflow.start(journeyWorkflow, { workflowId: m.workflowId, taskQueue: deps.taskQueue, args: [args], staticSummary: `Test run ${runId} of ${key}: contact ${m.ref}` });
  }
  if (input.events?.length) {
    await deps.temporal.workflow.start(testRunScriptWorkflow, {
      workflowId: `test:${runId}:script`, taskQueue: deps.taskQueue, staticSummary: `Scripted events of test run ${runId}`,
      args: [{ events: input.events.map((e) => ({ contactId: members.find((m) => m.ref === e.ref)!.contactId, name: e.name, properties: e.properties ?? {}, atMs: Math.round(e.after / input.timeScale) })) }],
    });
  }
  return runId;
}

/** How many of the run's enrolments are still running (cheap, for waiting on a run). */
export async function runningInTestRun(db: Database, runId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(enrolments)
    .where(and(eq(enrolments.testRunId, runId), eq(enrolments.status, 'running')));
  return row?.n ?? 0;
}

/** The run as it stands: each test contact's status, path and the emails it would have received. */
export async function testRunView(db: Database, runId: string) {
  const [run] = await db.select().from(testRuns).where(eq(testRuns.id, runId));
  if (!run) throw notFound('test_run', 'id', runId);
  const rows = await db.select().from(enrolments).where(eq(enrolments.testRunId, runId));
  const emails = rows.length ? await db.select().from(outgoingEmails).where(inArray(outgoingEmails.enrolmentId, rows.map((r) => r.id))).orderBy(asc(outgoingEmails.createdAt)) : [];
  const people = await Promise.all(run.contacts.map(async (m) => {
    const enrolment = rows.find((r) => r.id === m.enrolmentId)!;
    const audit = await auditForEnrolment(db, m.enrolmentId);
    return {
      ref: m.ref, contactId: m.contactId, enrolmentId: m.enrolmentId, workflowId: m.workflowId, status: enrolment.status, currentStep: enrolment.currentStep,
      path: audit.filter((a) => a.stepId).map((a) => ({ stepId: a.stepId!, action: a.action, outcome: a.outcome, at: a.at.toISOString() })),
      emails: emails.filter((e) => e.enrolmentId === m.enrolmentId).map((e) => ({ stepId: e.stepId, status: e.status, subject: e.subject, text: e.textBody, skipReason: e.skipReason })),
    };
  }));
  return {
    id: run.id, journeyKey: run.journeyKey, version: run.version, timeScale: run.timeScale, createdAt: run.createdAt.toISOString(),
    status: people.every((p) => p.status !== 'running') ? 'finished' as const : 'running' as const, contacts: people,
  };
}
