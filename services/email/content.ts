import { and, desc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { emailTemplates, type TemplateRow } from '../../db/schema';
import { conflict, notFound } from '../lib/errors';
import { signToken } from '../lib/signing';
import { renderTemplate } from '../lib/templates';

export interface EmailContent {
  subject: string;
  text: string;
  html?: string;
}

export interface LinkSettings {
  publicUrl: string;
  /** SIGNING_SECRET: one secret, or several comma-separated (the first signs). */
  signingSecret: string;
  /** How long open and click tracking links work (default 365 days); unsubscribe links never expire. */
  trackingTtlSeconds?: number;
}

const DEFAULT_TRACKING_TTL_SECONDS = 365 * 86_400;

/**
 * The template's latest approved version, or the named one if it is approved: a version waiting
 * for its review (or rejected) is never pinned or sent. 404 `template_not_found` when the
 * template (version) does not exist, 409 `template_not_approved` when it is not approved.
 */
export async function getTemplate(db: Database, key: string, version?: number): Promise<TemplateRow> {
  const where = version === undefined ? eq(emailTemplates.key, key) : and(eq(emailTemplates.key, key), eq(emailTemplates.version, version));
  const [row] = await db.select().from(emailTemplates).where(and(where, eq(emailTemplates.status, 'approved')))
    .orderBy(desc(emailTemplates.version)).limit(1);
  if (row) return row;
  const [any] = await db.select({ status: emailTemplates.status }).from(emailTemplates).where(where).limit(1);
  const what = version === undefined ? key : `${key}@${version}`;
  if (!any) throw notFound('template', 'key', what);
  throw conflict('template_not_approved', version === undefined
    ? `template "${what}" has no approved version (its versions wait for their review or were rejected)`
    : `template "${what}" is ${any.status === 'rejected' ? 'rejected' : 'waiting for its review'}`);
}

export async function renderContent(content: EmailContent, scope: Record<string, unknown>): Promise<EmailContent> {
  const [subject, text, html] = await Promise.all([
    renderTemplate(content.subject, scope),
    renderTemplate(content.text, scope),
    content.html ? renderTemplate(content.html, scope, 'html') : undefined,
  ]);
  return { subject: subject.replace(/\s+/g, ' ').trim(), text, html };
}

/** The signed one-click unsubscribe link for a contact and topic (no login, no expiry). */
export function unsubscribeUrl(links: LinkSettings, contactId: string, topic: string): string {
  return `${links.publicUrl}/unsubscribe/${signToken('unsubscribe', { c: contactId, t: topic }, links.signingSecret)}`;
}

/** Adds the unsubscribe link to a marketing email whose template does not show it. */
export function withUnsubscribeFooter(content: EmailContent, url: string): EmailContent {
  const text = content.text.includes(url) ? content.text : `${content.text}\n\n--\nUnsubscribe: ${url}\n`;
  let html = content.html;
  if (html && !html.includes(url)) {
    const footer = `<p style="font-size:12px;color:#666"><a href="${url}">Unsubscribe</a></p>`;
    html = html.includes('</body>') ? html.replace('</body>', `${footer}</body>`) : `${html}${footer}`;
  }
  return { ...content, text, html };
}

export interface TrackingContext {
  contactId: string;
  enrolmentId?: string;
  stepId?: string;
}

const HREF = /href="(https?:\/\/[^"]+)"/g;

/**
 * The links of a stored HTML template that click tracking may rewrite: those written in it. A
 * link with Liquid in it counts by its fixed start, which must name the scheme and host, so data
 * can vary its path or query but never where it points; anything else (a link that arrived in a
 * contact's data) is left as it is and never becomes a signed redirect.
 */
export function trackableLinks(sourceHtml: string): (url: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const [, href] of sourceHtml.matchAll(HREF)) {
    const cut = href!.search(/\{[{%]/);
    if (cut < 0) exact.add(href!);
    else if (/^https?:\/\/[^/{}]+\//.test(href!.slice(0, cut))) prefixes.push(href!.slice(0, cut));
  }
  return (url) => exact.has(url) || prefixes.some((p) => url.startsWith(p));
}

/** An attribute value as the browser reads it (the escaped HTML output encodes `&` and quotes). */
const attributeValue = (v: string) => v.replace(/&(quot|#34);/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/**
 * Engagement tracking in the HTML part: the template's own links go through signed click
 * redirects (see trackableLinks), and a 1x1 open pixel is added. The unsubscribe link is left alone.
 */
export function withTracking(html: string, links: LinkSettings, ctx: TrackingContext, keep: string[], trackable: (url: string) => boolean): string {
  const exp = Math.floor(Date.now() / 1000) + (links.trackingTtlSeconds ?? DEFAULT_TRACKING_TTL_SECONDS);
  const base = { c: ctx.contactId, n: ctx.enrolmentId, s: ctx.stepId, exp };
  const rewritten = html.replace(HREF, (whole, url: string) => {
    if (keep.includes(url) || !trackable(url)) return whole;
    return `href="${links.publicUrl}/t/c/${signToken('click', { ...base, u: attributeValue(url) }, links.signingSecret)}"`;
  });
  const pixel = `<img src="${links.publicUrl}/t/o/${signToken('open', base, links.signingSecret)}" width="1" height="1" alt="" style="display:none">`;
  return rewritten.includes('</body>') ? rewritten.replace('</body>', `${pixel}</body>`) : `${rewritten}${pixel}`;
}
