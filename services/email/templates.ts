import { and, desc, eq, gt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { emailTemplates, type TemplateRow } from '../../db/schema';
import { getTemplate, renderContent, type EmailContent } from './content';
import { invalid, type FieldProblem } from '../lib/errors';
import type { JourneyDefinition } from '../../journey-language';
import { templateProblem } from '../lib/templates';

/** A contact with every field set, to prove a template renders before it is published. */
const SAMPLE_SCOPE = {
  contact: {
    id: '00000000-0000-4000-8000-000000000000', email: 'sample@example.com', externalId: 'sample', firstName: 'Sam',
    lastName: 'Sample', company: 'Example Ltd', title: 'Buyer', phone: '+1 555 0100', locale: 'en', timezone: 'UTC',
    owner: 'owner@example.com', lifecycleStage: 'lead', attributes: {}, tags: [], score: 0,
  },
  journey: { key: 'sample' },
  unsubscribe_url: 'https://example.com/unsubscribe/sample',
};

/** Who saved a version, and the review it waits for when saved under a review policy (else it is approved at once). */
export interface TemplateSave {
  savedBy: string;
  review?: { processKey: string; runId: string };
}

/** Stores a new version of a template (numbered from 1); refuses one that does not parse. */
export async function createTemplateVersion(db: Database, key: string, content: EmailContent, save: TemplateSave): Promise<TemplateRow> {
  const problems: FieldProblem[] = [];
  for (const field of ['subject', 'text', 'html'] as const) {
    const source = content[field];
    const problem = source === undefined ? undefined : templateProblem(source);
    if (problem) problems.push({ path: `body.${field}`, message: `${field} ${problem}` });
  }
  if (!problems.length) {
    try {
      await renderContent(content, SAMPLE_SCOPE);
    } catch (err) {
      problems.push({ path: 'body', message: `does not render: ${(err as Error).message.split('\n')[0]}` });
    }
  }
  if (problems.length) throw invalid('invalid_template', `Template "${key}" is not valid Liquid`, problems);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`template:${key}`}))`);
    const [latest] = await tx.select({ version: emailTemplates.version }).from(emailTemplates)
      .where(eq(emailTemplates.key, key)).orderBy(desc(emailTemplates.version)).limit(1);
    const [row] = await tx.insert(emailTemplates)
      .values({
        key, version: (latest?.version ?? 0) + 1, subject: content.subject, text: content.text, html: content.html, savedBy: save.savedBy,
        status: save.review ? 'pending_review' : 'approved', reviewProcess: save.review?.processKey, reviewRunId: save.review?.runId,
      })
      .returning();
    return row!;
  });
}

/** A template's versions after version `after` (limit + 1 rows: the caller sees whether more follow). */
export async function listTemplateVersions(db: Database, key: string, page: { limit: number; after?: number }): Promise<TemplateRow[]> {
  return db.select().from(emailTemplates)
    .where(and(eq(emailTemplates.key, key), page.after === undefined ? undefined : gt(emailTemplates.version, page.after)))
    .orderBy(emailTemplates.version).limit(page.limit + 1);
}

/**
 * At publish: every send_email step that names a template gets its latest approved version
 * pinned (or keeps the one it names, which must be approved), and the pinned version must exist
 * and render. A version waiting for its review is never pinned. Problems name the step.
 */
export async function pinTemplates(db: Database, definition: JourneyDefinition): Promise<JourneyDefinition> {
  const problems: FieldProblem[] = [];
  const steps = await Promise.all(definition.steps.map(async (step, i) => {
    if (step.type !== 'send_email' || !step.template) return step;
    try {
      const template = await getTemplate(db, step.template, step.templateVersion);
      await renderContent({ subject: template.subject, text: template.text, html: template.html ?? undefined }, SAMPLE_SCOPE);
      return { ...step, templateVersion: template.version };
    } catch (err) {
      const what = step.templateVersion ? `${step.template}@${step.templateVersion}` : step.template;
      const code = (err as { code?: string }).code;
      const message = code === 'template_not_found' ? `step "${step.id}": unknown template "${what}"`
        : code === 'template_not_approved' ? `step "${step.id}": ${(err as Error).message}`
          : `step "${step.id}": template "${what}" does not render: ${(err as Error).message.split('\n')[0]}`;
      problems.push({ path: `definition.steps[${i}].template`, message, stepId: step.id } as FieldProblem);
      return step;
    }
  }));
  if (problems.length) throw invalid('invalid_definition', 'The draft cannot be published', problems);
  return { ...definition, steps };
}
