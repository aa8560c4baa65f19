import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { consentHistory, contactConsents, contacts, type ConsentHistoryRow, type ConsentVia } from '../../db/schema';
import { appendAudit, canonical } from '../audit/records';
import { conflict, notFound, type FieldProblem } from '../lib/errors';
import type { ConsentChange, ConsentInput } from './schemas';

/** Where a batch of consent changes came from: how it arrived and who sent it. */
export interface ConsentOrigin {
  via: ConsentVia;
  /** `api_key:<id>`, `contact`, `provider` or `system`. */
  actor: string;
}

/** One change as the ledger takes it: the API's input, or an unsubscribe's or a complaint's denial. */
export type ConsentChangeRequest = Omit<ConsentInput, 'madeBy' | 'evidence'> & {
  madeBy?: 'contact' | 'business';
  evidence?: Record<string, unknown>;
};

/** A current consent with who made it and the evidence of the history row behind it (none for rows older than the ledger). */
type CurrentConsent = typeof contactConsents.$inferSelect & { madeBy: 'contact' | 'business' | null; evidence: Record<string, unknown> };

/**
 * A grant through the API or an import may not override a denial the contact made (an
 * unsubscribe, a complaint, a denial the caller said the contact made) unless it is a re-consent
 * with its evidence: the reason it is refused, else undefined.
 */
function refusal(current: CurrentConsent | undefined, change: ConsentChangeRequest, via: ConsentVia): string | undefined {
  if (via !== 'api' && via !== 'import') return undefined;
  if (change.status !== 'granted' || change.reconsent || current?.status !== 'denied' || current.madeBy === 'business') return undefined;
  return `the contact denied ${current.channel}/${current.topic} (${current.source}, ${current.at.toISOString()}); `
    + 'a grant overrides it only as a re-consent: add "reconsent": { "evidence", "at" }';
}

/** Whether the change leaves the consent as it is: then nothing is recorded. */
function unchanged(current: CurrentConsent | undefined, change: ConsentChangeRequest, via: ConsentVia): boolean {
  if (!current || current.status !== change.status || change.reconsent) return false;
  // A repeated unsubscribe or complaint (a second click, a mail client's retry) changes nothing.
  if (via === 'unsubscribe' || via === 'provider_feedback') return true;
  return current.source === change.source && isDeepStrictEqual(current.evidence, change.evidence ?? {});
}

async function currentConsents(db: Database, contactId: string): Promise<CurrentConsent[]> {
  const rows = await db.select({ consent: contactConsents, madeBy: consentHistory.madeBy, evidence: consentHistory.evidence })
    .from(contactConsents).leftJoin(consentHistory, eq(consentHistory.id, contactConsents.historyId))
    .where(eq(contactConsents.contactId, contactId));
  return rows.map((r) => ({ ...r.consent, madeBy: r.madeBy, evidence: r.evidence ?? {} }));
}

const find = (rows: CurrentConsent[], c: { channel: string; topic: string }) => rows.find((r) => r.channel === c.channel && r.topic === c.topic);

const refused = (problems: FieldProblem[], contactId: string) => conflict('reconsent_required',
  `A grant cannot override the contact's own denial without a re-consent (${problems.map((p) => p.path).join(', ')})`,
  { field: problems[0]!.path, problems, contactId });

/**
 * The grants in `changes` the ledger would refuse (see `refusal`), read without changing
 * anything: a request checks them before it changes the contact, so a refused grant leaves the
 * whole request unapplied. Paths are `<prefix>.<index>.reconsent`.
 */
export async function refuseOverridingGrants(db: Database, contactId: string, changes: readonly ConsentChangeRequest[], origin: ConsentOrigin, prefix = 'consents'): Promise<void> {
  if (!grantsToCheck(changes)) return;
  const rows = await currentConsents(db, contactId);
  const problems = problemsOf(rows, changes, origin.via, prefix);
  if (problems.length) throw refused(problems, contactId);
}

/** Whether any change is a grant the ledger might refuse (a grant that is no re-consent). */
export function grantsToCheck(changes: readonly ConsentChangeRequest[]): boolean {
  return changes.some((c) => c.status === 'granted' && !c.reconsent);
}

/** The refused grants of a batch, each judged against the state the changes before it leave. */
function problemsOf(rows: readonly CurrentConsent[], changes: readonly ConsentChangeRequest[], via: ConsentVia, prefix: string): FieldProblem[] {
  const state = [...rows];
  return changes.flatMap((change, i) => {
    const current = find(state, change);
    const why = refusal(current, change, via);
    if (!why && !unchanged(current, change, via)) {
      const next = { ...(current ?? { contactId: '', historyId: null, evidence: {} }), channel: change.channel, topic: change.topic,
        status: change.status, source: change.source, at: new Date(), madeBy: change.madeBy ?? 'contact' };
      if (current) state[state.indexOf(current)] = next;
      else state.push(next);
    }
    return why ? [{ path: `${prefix}.${i}.reconsent`, message: why }] : [];
  });
}

/**
 * Records consent changes of one contact, in order: each one that changes something is appended
 * to the consent history (before and after, origin, evidence) and becomes the contact's current
 * consent, in one transaction that holds the contact's row, so concurrent changes of a contact
 * take turns and each sees the state the one before left. A grant the ledger refuses (see
 * `refusal`) refuses the whole batch (409, each refused grant named). Each recorded change is
 * then audited (`consent.granted`, `consent.withdrawn` or `consent.reconsented`), with the
 * history row's id and a digest of its evidence rather than the evidence itself.
 */
export async function recordConsentChanges(
  db: Database, contactId: string, changes: readonly ConsentChangeRequest[], origin: ConsentOrigin, prefix = 'consents',
): Promise<ConsentHistoryRow[]> {
  if (!changes.length) return [];
  const recorded = await db.transaction(async (tx) => {
    const [held] = await tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.id, contactId)).for('update');
    if (!held) throw notFound('contact', 'id', contactId);
    const rows = await currentConsents(tx as unknown as Database, contactId);
    const problems = problemsOf(rows, changes, origin.via, prefix);
    if (problems.length) throw refused(problems, contactId);
    const out: ConsentHistoryRow[] = [];
    for (const change of changes) {
      const current = find(rows, change);
      if (unchanged(current, change, origin.via)) continue;
      const [row] = await tx.insert(consentHistory).values({
        contactId, channel: change.channel, topic: change.topic, previousId: current?.historyId ?? null,
        beforeStatus: current?.status ?? null, beforeSource: current?.source ?? null, status: change.status, source: change.source,
        madeBy: change.madeBy ?? 'contact', via: origin.via, actor: origin.actor, evidence: change.evidence ?? {}, reconsent: change.reconsent ?? null,
      }).returning();
      await tx.insert(contactConsents).values({ contactId, channel: change.channel, topic: change.topic, status: change.status, source: change.source, at: row!.at, historyId: row!.id })
        .onConflictDoUpdate({
          target: [contactConsents.contactId, contactConsents.channel, contactConsents.topic],
          set: { status: change.status, source: change.source, at: row!.at, historyId: row!.id },
        });
      // The next change in the batch sees this one (the same topic twice: the second follows the first).
      const next: CurrentConsent = { contactId, channel: row!.channel, topic: row!.topic, status: row!.status, source: row!.source,
        at: row!.at, historyId: row!.id, madeBy: row!.madeBy, evidence: row!.evidence };
      if (current) rows[rows.indexOf(current)] = next;
      else rows.push(next);
      out.push(row!);
    }
    return out;
  });
  for (const row of recorded) await auditConsentChange(db, row);
  return recorded;
}

/** SHA-256 of a change's evidence (and re-consent): the audit commits to it without holding it. */
export function evidenceDigest(row: Pick<ConsentHistoryRow, 'evidence' | 'reconsent'>): string {
  return createHash('sha256').update(canonical({ evidence: row.evidence, reconsent: row.reconsent })).digest('hex');
}

async function auditConsentChange(db: Database, row: ConsentHistoryRow): Promise<void> {
  const action = row.reconsent ? 'consent.reconsented' : row.status === 'granted' ? 'consent.granted' : 'consent.withdrawn';
  await appendAudit(db, {
    actor: row.actor, action, outcome: row.via === 'unsubscribe' ? 'unsubscribed' : row.status, contactId: row.contactId,
    idempotencyKey: `consent:${row.id}`, consentState: `${row.status} (${row.source})`,
    details: {
      historyId: row.id, channel: row.channel, topic: row.topic, via: row.via, madeBy: row.madeBy,
      before: row.beforeStatus ? { status: row.beforeStatus, source: row.beforeSource } : null,
      after: { status: row.status, source: row.source },
      reconsent: row.reconsent !== null, evidenceDigest: evidenceDigest(row),
    },
  });
}

export interface ConsentHistoryQuery {
  channel?: string;
  topic?: string;
  limit: number;
  /** Cursor: the last id of the previous page. */
  after?: number;
}

/** A contact's consent history, oldest first, a page at a time (limit + 1 rows: the caller pages). */
export async function consentHistoryOf(db: Database, contactId: string, q: ConsentHistoryQuery): Promise<ConsentHistoryRow[]> {
  const where: Array<SQL | undefined> = [
    eq(consentHistory.contactId, contactId),
    q.channel ? eq(consentHistory.channel, q.channel) : undefined,
    q.topic ? eq(consentHistory.topic, q.topic) : undefined,
    q.after !== undefined ? gt(consentHistory.id, q.after) : undefined,
  ];
  return db.select().from(consentHistory).where(and(...where)).orderBy(asc(consentHistory.id)).limit(q.limit + 1);
}

/** One history row (the record a send relied on), if it exists. */
export async function consentHistoryRow(db: Database, id: number): Promise<ConsentHistoryRow | undefined> {
  const [row] = await db.select().from(consentHistory).where(eq(consentHistory.id, id));
  return row;
}

/** A history row as the API shows it: before and after side by side. */
export function consentChangeView(r: ConsentHistoryRow): ConsentChange {
  return {
    id: r.id, channel: r.channel, topic: r.topic, before: r.beforeStatus ? { status: r.beforeStatus, source: r.beforeSource ?? '' } : null,
    after: { status: r.status, source: r.source }, previousId: r.previousId, madeBy: r.madeBy, via: r.via, actor: r.actor,
    evidence: r.evidence, reconsent: r.reconsent, at: r.at.toISOString(),
  };
}
