import { and, eq, inArray, or } from 'drizzle-orm';
import type { Database } from '../db/client';
import { contacts, enrolments, type EnrolmentRow } from '../db/schema';
import { upsertContact } from './contacts';
import type { ContactUpsert } from './contact-schema';
import {
  enrolIn, insertEnrolments, newEnrolment, reusableEnrolment, startWorkflow, type EnrolDeps, type EnrolmentTarget,
} from './enrolments';
import { conflict, DomainError, notFound } from './errors';
import { metrics } from './metrics';

export interface BulkItem {
  contactId?: string;
  contact?: ContactUpsert;
  idempotencyKey?: string;
}

export type BulkOutcome =
  | { status: 'created' | 'existing'; enrolment: EnrolmentRow }
  | { status: 'error'; error: DomainError };

/** Contact upserts and workflow starts in flight at once: enough to keep the Temporal frontend busy. */
const CONCURRENCY = 32;

/**
 * Enrols many contacts in one journey version with the same rules as one at a time, answered
 * in order, in a few statements instead of a few per item: inline contacts are upserted (32 at
 * once), contacts given by id are read in one query, the prior enrolments of all of them in one,
 * the decisions (re-entry rule, idempotency keys, sequences) are made in memory in item order,
 * and the new rows with their first audit records go in together. Only then do the workflows
 * start, 32 at once. A row that a concurrent request inserted first is enrolled the single way.
 * One bad item answers with its error; a paused journey fails the whole request.
 */
export async function enrolMany(deps: EnrolDeps, target: EnrolmentTarget, items: BulkItem[], actor = 'api'): Promise<BulkOutcome[]> {
  const { db } = deps;
  const { journey, version } = target;
  const contactIds = await resolveContacts(db, items);

  const known = contactIds.filter((c): c is string => typeof c === 'string');
  const keys = items.map((i) => i.idempotencyKey).filter((k): k is string => k !== undefined);
  const prior = known.length === 0 ? [] : await db.select().from(enrolments).where(and(
    eq(enrolments.journeyId, journey.id),
    keys.length > 0 ? or(inArray(enrolments.contactId, known), inArray(enrolments.idempotencyKey, keys)) : inArray(enrolments.contactId, known),
  ));
  const byKey = new Map(prior.filter((r) => r.idempotencyKey !== null).map((r) => [r.idempotencyKey!, r]));
  const latest = new Map<string, EnrolmentRow>();
  for (const row of prior) {
    if ((latest.get(row.contactId)?.sequence ?? 0) < row.sequence) latest.set(row.contactId, row);
  }

  // In item order, as if enrolled one by one: a later item sees what an earlier one planned.
  const outcomes: Array<BulkOutcome | undefined> = new Array(items.length);
  const planned: EnrolmentRow[] = [];
  for (const [index, item] of items.entries()) {
    const contactId = contactIds[index]!;
    if (contactId instanceof DomainError) { outcomes[index] = { status: 'error', error: contactId }; continue; }
    const key = item.idempotencyKey;
    const existing = reusableEnrolment({ byKey: key === undefined ? undefined : byKey.get(key), latest: latest.get(contactId) }, version.definition.entry);
    if (existing) { outcomes[index] = { status: 'existing', enrolment: existing }; continue; }
    if (journey.status === 'paused') {
      throw conflict('journey_paused', `Journey "${journey.key}" is paused and takes no new enrolments`, { field: 'journeyKey' });
    }
    const row = newEnrolment(target, contactId, (latest.get(contactId)?.sequence ?? 0) + 1, key);
    latest.set(contactId, row);
    if (key !== undefined) byKey.set(key, row);
    planned.push(row);
    outcomes[index] = { status: 'created', enrolment: row };
  }

  const inserted = await insertEnrolments(db, planned, actor);
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) {
      const index = next++;
      const outcome = outcomes[index]!;
      if (outcome.status === 'error') continue;
      if (outcome.status === 'created' && !inserted.has(outcome.enrolment.id)) {
        // A concurrent request took this row's place: enrol this item the single way.
        outcomes[index] = await enrolIn(deps, target, { contactId: outcome.enrolment.contactId, idempotencyKey: items[index]!.idempotencyKey, actor })
          .then(({ enrolment, created }) => ({ status: created ? 'created' as const : 'existing' as const, enrolment }))
          .catch((err: unknown) => { if (err instanceof DomainError) return { status: 'error' as const, error: err }; throw err; });
        continue;
      }
      await startWorkflow(deps, outcome.enrolment, journey);
    }
  }));
  const created = outcomes.filter((o) => o?.status === 'created').length;
  if (created > 0) metrics.enrolmentsStarted.inc({ journey: journey.key, trigger: actor.split(':')[0] }, created);
  return outcomes as BulkOutcome[];
}

/** Each item's contact id, or the error that item answers with. */
async function resolveContacts(db: Database, items: BulkItem[]): Promise<Array<string | DomainError>> {
  const out = new Array<string | DomainError>(items.length);
  const givenIds = [...new Set(items.map((i) => i.contactId).filter((id): id is string => id !== undefined))];
  const found = givenIds.length === 0 ? new Set<string>()
    : new Set((await db.select({ id: contacts.id }).from(contacts).where(inArray(contacts.id, givenIds))).map((r) => r.id));
  const inline: number[] = [];
  for (const [index, item] of items.entries()) {
    if (item.contactId !== undefined) out[index] = found.has(item.contactId) ? item.contactId : notFound('contact', 'contactId', item.contactId);
    else inline.push(index);
  }
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < inline.length) {
      const index = inline[next++]!;
      out[index] = await upsertContact(db, items[index]!.contact!).then((r) => r.contact.id)
        .catch((err: unknown) => { if (err instanceof DomainError) return err; throw err; });
    }
  }));
  return out;
}
