import { and, desc, eq, sql } from 'drizzle-orm';
import { isDeepStrictEqual } from 'node:util';
import type { Database } from '../../db/client';
import { journeys, journeyVersions, type JourneyRow } from '../../db/schema';
import { conflict, invalid, notFound, type FieldProblem } from '../lib/errors';
import { publishableDefinitionSchema, type JourneyDefinition } from '../../journey-language';
import { toProblems } from '../lib/validation';
import { pinTemplates } from '../email/templates';
import { missingPrincipal } from '../people/users';
import { auditTransactionalSteps, transactionalProblems } from './transactional';
import { segmentReferenceProblems } from './segment-references';
import { appendAudit, digestOf } from '../audit/records';

export interface JourneyVersion {
  version: number;
  definition: JourneyDefinition;
  publishedAt: Date;
}

/**
 * Problems with a draft, each naming its path and step; empty when it can be published.
 * `webhookAllowedHosts` is the operator's WEBHOOK_ALLOWED_HOSTS: notify URLs naming any other
 * internal host literally are problems (see publishableDefinitionSchema for why it is not static).
 */
export function draftProblems(draft: unknown, webhookAllowedHosts: readonly string[] = []): FieldProblem[] {
  const parsed = publishableDefinitionSchema(webhookAllowedHosts).safeParse(draft);
  return parsed.success ? transactionalProblems(parsed.data) : toProblems(parsed.error, 'definition', draft);
}

export async function getJourney(db: Database, key: string): Promise<JourneyRow> {
  const [row] = await db.select().from(journeys).where(eq(journeys.key, key));
  if (!row) throw notFound('journey', 'key', key);
  return row;
}

/** How long a journey row read for enrolments is used again without reading it. */
const RECENT_MS = 5_000;
const recent = new WeakMap<Database, Map<string, { row: JourneyRow; until: number }>>();

/**
 * The journey as read within the last five seconds (`fresh` reads it now): every enrolment needs
 * it, and it changes only when published, paused or resumed. Those drop it here at once; another
 * process's change is caught where it matters, by the enrolment insert, which checks the version
 * and status it was given and is then retried with a fresh read (`insertEnrolments`). Only an
 * active, published journey is kept: a refusal (paused, not published) always comes from a read
 * made now, so a resume or a first publish elsewhere is seen at once.
 */
export async function recentJourney(db: Database, key: string, fresh = false): Promise<JourneyRow> {
  let rows = recent.get(db);
  if (!rows) recent.set(db, rows = new Map());
  const cached = rows.get(key);
  if (cached && !fresh && cached.until > Date.now()) return cached.row;
  const row = await getJourney(db, key);
  if (rows.size > 1_000) rows.clear();
  if (row.status === 'active' && row.latestVersion !== null) rows.set(key, { row, until: Date.now() + RECENT_MS });
  else rows.delete(key);
  return row;
}

function forgetRecent(db: Database, key: string): void {
  recent.get(db)?.delete(key);
}

/** Journeys by key after `after`: limit + 1 rows, so the caller knows whether another page follows. */
export async function listJourneys(db: Database, page: { limit: number; after?: string }): Promise<JourneyRow[]> {
  return db.select().from(journeys).where(page.after === undefined ? undefined : sql`${journeys.key} > ${page.after}`)
    .orderBy(journeys.key).limit(page.limit + 1);
}

/** The latest `limit` published versions, oldest first. */
export async function listVersions(db: Database, journeyId: string, limit = 100): Promise<{ version: number; publishedAt: Date }[]> {
  const latest = await db.select({ version: journeyVersions.version, publishedAt: journeyVersions.publishedAt })
    .from(journeyVersions).where(eq(journeyVersions.journeyId, journeyId)).orderBy(desc(journeyVersions.version)).limit(limit);
  return latest.reverse();
}

export async function createJourney(
  db: Database,
  input: { key: string; name: string; description?: string; definition: unknown },
  editedBy?: string,
): Promise<JourneyRow> {
  const [row] = await db.insert(journeys)
    .values({ key: input.key, name: input.name, description: input.description, draft: input.definition, draftEditedBy: editedBy })
    .onConflictDoNothing({ target: journeys.key })
    .returning();
  if (!row) throw conflict('journey_exists', `A journey with key "${input.key}" exists already`, { field: 'key' });
  return row;
}

export async function updateDraft(
  db: Database,
  key: string,
  input: { name?: string; description?: string; definition: unknown },
  editedBy?: string,
): Promise<JourneyRow> {
  const [row] = await db.update(journeys)
    .set({ draft: input.definition, name: input.name, description: input.description, draftEditedBy: editedBy, updatedAt: sql`now()` })
    .where(eq(journeys.key, key)).returning();
  forgetRecent(db, key);
  if (!row) throw notFound('journey', 'key', key);
  return row;
}

/**
 * Publishes the draft as the next immutable version. Publishing an unchanged draft returns the
 * latest version instead of numbering a copy. Refuses (422) a draft that does not validate,
 * including a notify step aimed at an internal host that `webhookAllowedHosts` does not name and
 * a transactional email step without its reason. A new version's transactional steps are
 * audited with their reasons, `actor` (the admin key) as the one who marked them. With
 * `reviewedDigest` (a review's end) it publishes only a draft of that digest (409 `draft_changed`).
 */
export async function publishJourney(
  db: Database, key: string, webhookAllowedHosts: readonly string[] = [], actor = 'system', reviewedDigest?: string,
): Promise<{ journey: JourneyRow; version: number; created: boolean }> {
  const published = await db.transaction(async (tx) => {
    const [journey] = await tx.select().from(journeys).where(eq(journeys.key, key)).for('update');
    if (!journey) throw notFound('journey', 'key', key);
    if (reviewedDigest !== undefined && digestOf(journey.draft) !== reviewedDigest) {
      throw conflict('draft_changed', `The draft of "${key}" changed since its review started`);
    }
    const parsed = publishableDefinitionSchema(webhookAllowedHosts).safeParse(journey.draft);
    if (!parsed.success) {
      throw invalid('invalid_definition', `The draft of "${key}" cannot be published`, toProblems(parsed.error, 'definition', journey.draft));
    }
    const problems = [
      ...transactionalProblems(parsed.data), ...await approverProblems(tx as unknown as Database, parsed.data),
      ...await segmentReferenceProblems(tx as unknown as Database, parsed.data),
    ];
    if (problems.length) throw invalid('invalid_definition', `The draft of "${key}" cannot be published`, problems);
    const definition = await pinTemplates(tx as unknown as Database, parsed.data);
    if (journey.latestVersion !== null) {
      const latest = await getVersion(tx as unknown as Database, journey.id, journey.latestVersion);
      if (isDeepStrictEqual(latest.definition, definition)) return { journey, version: latest.version, created: false, definition };
    }
    const version = (journey.latestVersion ?? 0) + 1;
    await tx.insert(journeyVersions).values({ journeyId: journey.id, version, definition });
    const trigger = definition.trigger;
    const [updated] = await tx.update(journeys).set({
      latestVersion: version, updatedAt: sql`now()`,
      triggerType: trigger.type, triggerEvent: trigger.type === 'event' ? trigger.event : trigger.type === 'segment' ? trigger.segment ?? null : null,
    })
      .where(eq(journeys.id, journey.id)).returning();
    return { journey: updated!, version, created: true, definition };
  }).finally(() => forgetRecent(db, key));
  // Also for an unchanged draft: a retry after the version went in but its record did not (once per version).
  await auditTransactionalSteps(db, key, published.version, published.definition, actor);
  return { journey: published.journey, version: published.version, created: published.created };
}

/**
 * Approval and task steps whose assignee or escalation target nobody is (no such user, nobody in the
 * role), each naming its step and field: such a task could never be decided, only expire.
 */
async function approverProblems(db: Database, definition: JourneyDefinition): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  for (const [i, step] of definition.steps.entries()) {
    if (step.type !== 'approval' && step.type !== 'task') continue;
    // A task step's pool names users; the contact's owner is known only when the task opens.
    const assignees = 'pool' in step.assignee ? step.assignee.pool.map((user, n) => ({ field: `assignee.pool[${n}]`, principal: { user } }))
      : 'owner' in step.assignee ? [] : [{ field: 'assignee', principal: step.assignee }];
    for (const { field, principal } of [...assignees, { field: 'escalateTo', principal: step.escalateTo }]) {
      const missing = principal && await missingPrincipal(db, principal);
      if (missing) problems.push({ path: `definition.steps[${i}].${field}`, stepId: step.id, message: `step "${step.id}": ${field}: ${missing}` });
    }
  }
  return problems;
}

/** Published versions never change, so they are cached once read. */
const versionCache = new Map<string, JourneyVersion>();

export async function getVersion(db: Database, journeyId: string, version: number): Promise<JourneyVersion> {
  const cacheKey = `${journeyId}:${version}`;
  const cached = versionCache.get(cacheKey);
  if (cached) return cached;
  const found = await readVersion(db, journeyId, version);
  if (versionCache.size > 5_000) versionCache.clear();
  versionCache.set(cacheKey, found);
  return found;
}

async function readVersion(db: Database, journeyId: string, version: number): Promise<JourneyVersion> {
  const [row] = await db.select().from(journeyVersions)
    .where(and(eq(journeyVersions.journeyId, journeyId), eq(journeyVersions.version, version)))
    .orderBy(desc(journeyVersions.version));
  if (!row) throw notFound('journey_version', 'version', String(version));
  return { version: row.version, definition: row.definition as JourneyDefinition, publishedAt: row.publishedAt };
}

/**
 * Pausing stops new enrolments; running ones carry on. It is immediate, under a review policy too
 * (an emergency stop needs no review), and audited with who did it (`journey.paused` / `journey.resumed`).
 */
export async function setJourneyStatus(db: Database, key: string, status: 'active' | 'paused', actor = 'system'): Promise<JourneyRow> {
  const [row] = await db.update(journeys).set({ status, updatedAt: sql`now()` })
    .where(eq(journeys.key, key)).returning();
  forgetRecent(db, key);
  if (!row) throw notFound('journey', 'key', key);
  await appendAudit(db, {
    actor, action: status === 'paused' ? 'journey.paused' : 'journey.resumed', outcome: status, journeyKey: key, journeyVersion: row.latestVersion ?? undefined,
  });
  return row;
}
