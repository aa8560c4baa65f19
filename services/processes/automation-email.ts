import { z } from 'zod';
import type { ProcessAutomationAction, ValueRef } from '../../journey-language';
import type { UserRow } from '../../db/schema';
import { findExisting } from '../contacts/contacts';
import { getTemplate, renderContent } from '../email/content';
import { deliverEmail, deliverNotice, type EmailResult, type EmailSettings } from '../email/delivery';
import type { Mailer } from '../email/mailer';
import type { Database } from '../../db/client';
import { PermanentError } from '../lib/errors';
import { findUserByEmail, getUser, usersInRole } from '../people/users';

type SendEmail = Extract<ProcessAutomationAction, { type: 'send_email' }>;

interface EmailDeps {
  db: Database;
  mailer: Mailer;
  email: EmailSettings;
}

/**
 * A send_email automation. Mail to people of the team (a user, a role's members, or an address
 * that is a user's) is internal: a notice through the approvers' notice path, which checks the
 * suppression list only (consent and unsubscribe are a contact's). Mail to an address a run holds
 * that is no user's is mail to a contact, checked as marketing email on the automation's topic
 * (suppression, consent, frequency cap, one-click unsubscribe), exactly as a journey's; an address
 * that is no contact has no consent on record and is skipped. Each recipient's send is once per
 * `<automation key>:<user or contact id>`. What was sent or skipped is counted; no address is
 * kept in the run's history or audit.
 */
export async function sendAutomationEmail(
  deps: EmailDeps, run: { taskId: string }, key: string, scope: Record<string, unknown>, action: SendEmail, valueOf: (ref: ValueRef) => unknown,
): Promise<Record<string, unknown>> {
  const template = await getTemplate(deps.db, action.template, action.templateVersion);
  const results: EmailResult[] = [];
  let recipients: UserRow[];
  if ('from' in action.to) {
    const address = z.email().safeParse(valueOf(action.to));
    if (!address.success) throw new PermanentError('invalid_value', `${action.to.from} is not an email address`);
    const user = await findUserByEmail(deps.db, address.data);
    if (!user) {
      const contact = await findExisting(deps.db, { email: address.data });
      results.push(contact && !contact.erasedAt
        ? await deliverEmail(deps.db, deps.mailer, deps.email, {
          idempotencyKey: `${key}:${contact.id}`, contactId: contact.id, stepId: run.taskId, category: 'marketing', topic: action.topic,
          template: { key: template.key, version: template.version }, scope,
        })
        : { status: 'skipped', reason: 'not_a_contact', replayed: false });
      return summary(template, 'contact', results);
    }
    recipients = [user];
  } else if ('role' in action.to) recipients = await usersInRole(deps.db, action.to.role);
  else if ('user' in action.to) recipients = [await findUserByEmail(deps.db, action.to.user)].filter((u): u is UserRow => !!u);
  else recipients = [await getUser(deps.db, action.to.userId)];
  if (!recipients.length) throw new PermanentError('no_recipient', 'nobody is there to send to (no such user, nobody in the role)');
  const content = await renderContent({ subject: template.subject, text: template.text, html: template.html ?? undefined }, scope);
  for (const user of recipients) {
    results.push(await deliverNotice(deps.db, deps.mailer, deps.email, { idempotencyKey: `${key}:${user.id}`, to: user.email, content }));
  }
  return summary(template, 'internal', results);
}

function summary(template: { key: string; version: number }, to: 'internal' | 'contact', results: EmailResult[]) {
  const skipped = results.filter((r) => r.status === 'skipped' || r.status === 'unknown');
  return {
    template: template.key, templateVersion: template.version, to, recipients: results.length,
    sent: results.length - skipped.length, skipped: skipped.map((r) => r.reason ?? r.status),
  };
}
