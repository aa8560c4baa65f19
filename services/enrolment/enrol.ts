import type { Database } from '../../db/client';
import { existingContactIds } from '../../db/queries/contacts';
import { priorEnrolments } from '../../db/queries/enrolments';
import type { EnrolmentRow } from '../../db/schema';
import { contactErased, upsertContact } from '../contacts/contacts';
import type { ContactUpsert } from '../contacts/schemas';
import { enrolmentTarget, insertEnrolments, newEnrolment, type EnrolmentTarget } from './rows';
import { startMissingWorkflow, startWorkflow, type EnrolDeps } from './workflow-runs';
import { conflict, DomainError, notFound } from '../lib/errors';
import { metrics } from '../lib/metrics';
import { contactsChanged } from '../segments/contact-changed';
import { durationToMs, type JourneyDefinition } from '../../journey-language';

/** One contact to enrol: an existing one by id, or one to upsert inline. */
export interface EnrolItem {
  contactId?: string;
  contact?: ContactUpsert;
  idempotencyKey?: string;
  /** The event that started it (an event trigger): its steps read it as `trigger.*`. */
  triggerEventId?: string;
}

export interface EnrolRequest extends EnrolItem {
  journeyKey: string;
  actor?: string;
}

export type EnrolOutcome =
  | { status: 'created' | 'existing'; enrolment: EnrolmentRow }
  | { status: 'error'; error: DomainError };

/** Contact upserts and workflow starts in flight at once: enough to keep the Temporal frontend busy. */
const CONCURRENCY = 32;

/**
 * Enrols a contact in a journey's latest version, idempotently: the same request (same
 * idempotency key, or a contact the entry rules do not let in again) returns the enrolment that
 * exists and starts nothing new. Safe to retry after a failure at any point: the enrolment row
 * and its `enrolment.started` audit record commit together, before the workflow starts, and a
 * retry starts the run of a running enrolment whose run is missing (never that of a finished one).
 */
export async function enrol(deps: EnrolDeps, req: EnrolRequest): Promise<{ enrolment: EnrolmentRow; created: boolean }> {
  const [outcome] = await enrolMany(deps, await enrolmentTarget(deps.db, req.journeyKey), [req], req.actor);
  if (outcome!.status === 'error') throw outcome!.error;
  return { enrolment: outcome!.enrolment, created: outcome!.status === 'created' };
}

/**
 * Enrolments a trigger asks for (an event, a contact entering a segment, a scheduled run) in the
 * journey as the trigger read it: a journey paused since then enrols nobody (no outcomes), as it
 * would have a moment earlier, rather than failing the event or change that triggered it.
 */
export async function triggeredEnrolments(deps: EnrolDeps, target: EnrolmentTarget, items: EnrolItem[], actor: string): Promise<EnrolOutcome[]> {
  try {
    return await enrolMany(deps, target, items, actor);
  } catch (err) {
    if (err instanceof DomainError && err.code === 'journey_paused') return [];
    throw err;
  }
}

/** One triggered enrolment: the enrolment it created, if it created one; an item's error is thrown. */
export async function triggerEnrolment(deps: EnrolDeps, target: EnrolmentTarget, item: EnrolItem, actor: string): Promise<EnrolmentRow | undefined> {
  const [outcome] = await triggeredEnrolments(deps, target, [item], actor);
  if (outcome?.status === 'error') throw outcome.error;
  return outcome?.status === 'created' ? outcome.enrolment : undefined;
}

/**
 * Enrols contacts in one journey version, answered in order, in a few statements whatever
 * their number: inline contacts are upserted (32 at once), contacts given by id are read in one
 * query, the prior enrolments of all of them in one (none for a contact the request just created
 * without a key), the decisions (re-entry rule, idempotency keys, sequences) are made in memory
 * in item order as if one by one, and the new rows with their first audit records go in
 * together, if the target is still the journey's latest version and active; if not (a publish or
 * pause elsewhere since it was read), once more with the journey read again. Only then do the
 * new enrolments' workflows start, 32 at once (an existing one's only if it is running and its
 * run is missing). A row that a concurrent request inserted first is answered with the
 * enrolment that won. One bad item answers with its error; a paused journey fails the call.
 */
export async function enrolMany(deps: EnrolDeps, target: EnrolmentTarget, items: EnrolItem[], actor = 'api'): Promise<EnrolOutcome[]> {
  const contacts = await resolveContacts(deps.db, items);
  let outcomes = await enrolIn(deps, target, items, contacts, actor);
  if (outcomes === 'stale') {
    // Published again or paused since `target` was read (by another process): once more, read now.
    outcomes = await enrolIn(deps, await enrolmentTarget(deps.db, target.journey.key, true), items, contacts, actor);
    if (outcomes === 'stale') throw conflict('enrolment_conflict', `Journey "${target.journey.key}" changed during the enrolment; retry`);
  }
  // Contacts written inline: their segments and state goals follow (the contact-changed hook, set-based).
  const written = contacts.flatMap((c, i) => (items[i]!.contact !== undefined && !(c instanceof DomainError) ? [{ contactId: c.id, created: c.created }] : []));
  if (written.length) await contactsChanged(deps, written);
  return outcomes;
}

/** Plans, inserts and starts the enrolments of resolved contacts in one target; nothing went in if `stale`. */
async function enrolIn(
  deps: EnrolDeps, target: EnrolmentTarget, items: EnrolItem[], contacts: ResolvedContact[], actor: string,
): Promise<EnrolOutcome[] | 'stale'> {
  const { db } = deps;
  const { journey, version } = target;
  const contactIds = contacts.map((c) => (c instanceof DomainError ? c : c.id));
  // A contact this request created has no enrolments yet, unless an idempotency key says otherwise.
  const prior = await lookUpPrior(db, journey.id,
    contacts.flatMap((c, i) => (c instanceof DomainError || (c.created && items[i]!.idempotencyKey === undefined) ? [] : [c.id])),
    items.flatMap((i) => (i.idempotencyKey === undefined ? [] : [i.idempotencyKey])));

  // In item order, as if enrolled one by one: a later item sees what an earlier one planned.
  const outcomes = new Array<EnrolOutcome>(items.length);
  const planned: EnrolmentRow[] = [];
  for (const [index, item] of items.entries()) {
    const contactId = contactIds[index]!;
    if (contactId instanceof DomainError) { outcomes[index] = { status: 'error', error: contactId }; continue; }
    const existing = reusableEnrolment(prior.of(contactId, item.idempotencyKey), version.definition.entry);
    if (existing) { outcomes[index] = { status: 'existing', enrolment: existing }; continue; }
    if (journey.status === 'paused') {
      throw conflict('journey_paused', `Journey "${journey.key}" is paused and takes no new enrolments`, { field: 'journeyKey' });
    }
    const row = newEnrolment(target, contactId, (prior.of(contactId).latest?.sequence ?? 0) + 1, item.idempotencyKey, item.triggerEventId);
    prior.add(row);
    planned.push(row);
    outcomes[index] = { status: 'created', enrolment: row };
  }

  const inserted = await insertEnrolments(db, target, planned, actor);
  if (inserted === 'stale') return 'stale';
  const lost = outcomes.flatMap((o, index) => (o.status === 'created' && !inserted.has(o.enrolment.id) ? [index] : []));
  if (lost.length > 0) {
    // Concurrent identical requests won these rows: answer with what they wrote.
    const winners = await lookUpPrior(db, journey.id, lost.map((i) => contactIds[i] as string),
      lost.flatMap((i) => (items[i]!.idempotencyKey === undefined ? [] : [items[i]!.idempotencyKey!])));
    for (const index of lost) {
      const won = winners.of((outcomes[index] as { enrolment: EnrolmentRow }).enrolment.contactId, items[index]!.idempotencyKey);
      const enrolment = won.byKey ?? won.latest;
      outcomes[index] = enrolment ? { status: 'existing', enrolment }
        : { status: 'error', error: conflict('enrolment_conflict', 'A concurrent enrolment of this contact is under way; retry') };
    }
  }
  // New enrolments start; an existing one only if it is running and its run is missing.
  const starting = new Set(outcomes.flatMap((o) => (o.status === 'created' ? [o.enrolment.id] : [])));
  await inParallel(items.length, async (index) => {
    const outcome = outcomes[index]!;
    if (outcome.status === 'created') await startWorkflow(deps, outcome.enrolment, journey);
    else if (outcome.status === 'existing' && !starting.has(outcome.enrolment.id)) await startMissingWorkflow(deps, outcome.enrolment, journey);
  });
  const created = outcomes.filter((o) => o.status === 'created').length;
  if (created > 0) metrics.enrolmentsStarted.inc({ journey: journey.key, trigger: actor.split(':')[0] }, created);
  return outcomes;
}

/** The enrolment a repeated request should get back, following the journey's re-entry rule. */
function reusableEnrolment(prior: { byKey?: EnrolmentRow; latest?: EnrolmentRow }, entry: JourneyDefinition['entry']): EnrolmentRow | undefined {
  if (prior.byKey) return prior.byKey;
  const { latest } = prior;
  if (!latest) return undefined;
  const cooling = entry.cooldown !== undefined && Date.now() - latest.startedAt.getTime() < (durationToMs(entry.cooldown) ?? 0);
  switch (entry.reentry) {
    case 'once': return latest;
    case 'after_exit': return latest.status === 'running' || cooling ? latest : undefined;
    case 'always': return cooling ? latest : undefined;
  }
}

/** The journey's enrolments of these contacts or keys, in one query (none when there are none), looked up by contact and key. */
async function lookUpPrior(db: Database, journeyId: string, contactIds: string[], keys: string[]) {
  const rows = contactIds.length === 0 && keys.length === 0 ? [] : await priorEnrolments(db, { journeyId, contactIds, keys });
  const byKey = new Map<string, EnrolmentRow>();
  const latest = new Map<string, EnrolmentRow>();
  const add = (row: EnrolmentRow) => {
    if (row.idempotencyKey !== null) byKey.set(row.idempotencyKey, row);
    if ((latest.get(row.contactId)?.sequence ?? 0) < row.sequence) latest.set(row.contactId, row);
  };
  rows.forEach(add);
  return {
    add,
    of: (contactId: string, key?: string) => ({ byKey: key === undefined ? undefined : byKey.get(key), latest: latest.get(contactId) }),
  };
}

type ResolvedContact = { id: string; created: boolean } | DomainError;

/** Each item's contact (its id, and whether this request created it), or the error that item answers with. */
async function resolveContacts(db: Database, items: EnrolItem[]): Promise<ResolvedContact[]> {
  const out = new Array<ResolvedContact>(items.length);
  const givenIds = [...new Set(items.map((i) => i.contactId).filter((id): id is string => id !== undefined))];
  const found = new Map((givenIds.length === 0 ? [] : await existingContactIds(db, givenIds)).map((c) => [c.id, c.erasedAt]));
  const inline: number[] = [];
  for (const [index, item] of items.entries()) {
    if (item.contactId !== undefined) {
      const erasedAt = found.get(item.contactId);
      // An erased contact's id is never enrolled again (410).
      out[index] = erasedAt === undefined ? notFound('contact', 'contactId', item.contactId)
        : erasedAt ? contactErased(item.contactId, erasedAt) : { id: item.contactId, created: false };
    } else inline.push(index);
  }
  await inParallel(inline.length, async (i) => {
    const index = inline[i]!;
    out[index] = await upsertContact(db, items[index]!.contact!).then((r) => ({ id: r.contact.id, created: r.created }))
      .catch((err: unknown) => { if (err instanceof DomainError) return err; throw err; });
  });
  return out;
}

/** Runs `fn(0..count-1)`, `CONCURRENCY` at a time. */
async function inParallel(count: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
    while (next < count) await fn(next++);
  }));
}
