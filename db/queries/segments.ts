import { sql } from 'drizzle-orm';
import type { Database } from '../client';
import { contacts, events, outgoingEmails, segmentChanges, segmentMemberships } from '../schema';

type Rows<T> = { rows: T[] };

/**
 * Takes the membership locks of these contacts, in one order (so two writers never wait on each
 * other in a cycle), until the transaction ends: a contact's memberships are decided by one
 * writer at a time, on what that writer reads after the lock.
 */
export async function lockMemberships(tx: Database, contactIds: string[]): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(h) from (
    select distinct hashtextextended('segment-membership:' || id, 0) as h from unnest(${textArray(contactIds)}::uuid[]) as id order by 1) s`);
}

/** The contacts' events of these names since `since`, at most `perName` per contact and name, newest first. */
export async function recentEventsOf(db: Database, contactIds: string[], names: string[], since: Date, perName: number) {
  if (!contactIds.length || !names.length) return [];
  const { rows } = await db.execute(sql`select contact_id, name, occurred_at, properties from (
      select ${events.contactId} as contact_id, ${events.name} as name, ${events.occurredAt} as occurred_at, ${events.properties} as properties,
        row_number() over (partition by ${events.contactId}, ${events.name} order by ${events.occurredAt} desc) as n
      from ${events} where ${events.contactId} = any(${textArray(contactIds)}::uuid[]) and ${events.name} = any(${textArray(names)}::text[])
        and ${events.occurredAt} >= ${since.toISOString()}::timestamptz) e
    where n <= ${perName} order by occurred_at desc`) as unknown as Rows<{ contact_id: string; name: string; occurred_at: Date | string; properties: Record<string, unknown> }>;
  return rows;
}

/** When each contact was last seen: its latest event that is not the service's own (segment.*, contact.*). */
export async function lastSeenOf(db: Database, contactIds: string[]) {
  if (!contactIds.length) return [];
  const { rows } = await db.execute(sql`select ${events.contactId} as contact_id, max(${events.occurredAt}) as at from ${events}
    where ${events.contactId} = any(${textArray(contactIds)}::uuid[]) and ${events.name} not like 'segment.%' and ${events.name} not like 'contact.%'
    group by ${events.contactId}`) as unknown as Rows<{ contact_id: string; at: Date | string }>;
  return rows;
}

/** The last `n` marketing emails sent to each contact, newest first, each with whether it was opened or clicked. */
export async function recentEmailsOf(db: Database, contactIds: string[], n: number) {
  if (!contactIds.length || n <= 0) return [];
  const engaged = (names: string[]) => sql`exists (select 1 from ${events} v where v.contact_id = e.contact_id
    and v.name = any(${textArray(names)}::text[]) and v.properties->>'enrolmentId' = e.enrolment_id::text and v.properties->>'stepId' = e.step_id)`;
  const { rows } = await db.execute(sql`select e.contact_id, ${engaged(['email_opened', 'email_clicked'])} as opened, ${engaged(['email_clicked'])} as clicked
    from (select ${outgoingEmails.contactId} as contact_id, ${outgoingEmails.enrolmentId} as enrolment_id, ${outgoingEmails.stepId} as step_id, ${outgoingEmails.sentAt} as sent_at,
        row_number() over (partition by ${outgoingEmails.contactId} order by ${outgoingEmails.sentAt} desc) as k
      from ${outgoingEmails} where ${outgoingEmails.contactId} = any(${textArray(contactIds)}::uuid[]) and ${outgoingEmails.status} = 'sent'
        and ${outgoingEmails.category} = 'marketing') e
    where k <= ${n} order by e.sent_at desc`) as unknown as Rows<{ contact_id: string; opened: boolean; clicked: boolean }>;
  return rows;
}

export interface MembershipDecision {
  segmentId: string;
  version: number;
  contactId: string;
  member: boolean;
}

/**
 * Writes decided memberships in one statement: a member not yet in is inserted, a non-member
 * still in is deleted, and each real change is recorded in segment_changes by the same
 * statement; a decision that changes nothing writes nothing (a retry records no change twice;
 * a member decided by a newer version only has its version moved).
 */
export async function applyMemberships(db: Database, decisions: MembershipDecision[]) {
  if (!decisions.length) return [];
  const json = JSON.stringify(decisions.map((d) => ({ s: d.segmentId, c: d.contactId, v: d.version, m: d.member })));
  const { rows } = await db.execute(sql`with d as (
      select * from jsonb_to_recordset(${json}::jsonb) as x(s uuid, c uuid, v int, m boolean)),
    entered as (
      insert into ${segmentMemberships} (segment_id, contact_id, version) select s, c, v from d where m
      on conflict (segment_id, contact_id) do update set version = excluded.version where ${segmentMemberships}.version <> excluded.version
      returning segment_id, contact_id, version, (xmax = 0) as inserted),
    departed as (
      delete from ${segmentMemberships} m using d where not d.m and m.segment_id = d.s and m.contact_id = d.c
      returning m.segment_id, m.contact_id, d.v as version)
    insert into ${segmentChanges} (segment_id, contact_id, kind, version)
      select segment_id, contact_id, 'entered', version from entered where inserted
      union all select segment_id, contact_id, 'left', version from departed
    returning id, segment_id, contact_id, kind`) as unknown as Rows<{ id: number | string; segment_id: string; contact_id: string; kind: 'entered' | 'left' }>;
  return rows;
}

/** Contacts by id after a cursor, for a scan (all of them: test and erased ones are nobody's members). */
export async function contactPage(db: Database, after: string | undefined, limit: number) {
  return db.select().from(contacts).where(after ? sql`${contacts.id} > ${after}` : undefined).orderBy(contacts.id).limit(limit);
}

/** A text[] parameter (drizzle would expand a JS array into a list). */
function textArray(values: string[]) {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;
}
