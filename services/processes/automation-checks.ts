import type { Database } from '../../db/client';
import { tasksOf, webhookTargetRefusal, type ProcessAutomationAction, type ProcessDefinition } from '../../journey-language';
import { getTemplate } from '../email/content';
import { getJourney } from '../journeys/journeys';
import { DomainError, type FieldProblem } from '../lib/errors';
import { getUser, missingPrincipal } from '../people/users';
import { getSegment } from '../segments/segments';

/**
 * What publishing a process checks of its automations beyond the schema, each problem naming
 * its task and field (`definition.sections[0].tasks[2].automations[0].do.journey`): the journeys,
 * segments, templates and recipients they name exist, and a webhook's host is not internal
 * (unless WEBHOOK_ALLOWED_HOSTS names it). Keys a run supplies (`{ "from": … }`) are checked when
 * the automation runs. Also pins each send_email's template to its latest version.
 */
export async function checkAutomations(
  db: Database, definition: ProcessDefinition, webhookAllowedHosts: readonly string[],
): Promise<{ problems: FieldProblem[]; definition: ProcessDefinition }> {
  const problems: FieldProblem[] = [];
  for (const { task, section, index } of tasksOf(definition)) {
    for (const [k, automation] of (task.automations ?? []).entries()) {
      const at = (field: string) => `definition.sections[${section}].tasks[${index}].automations[${k}].do.${field}`;
      for (const { field, message } of await actionProblems(db, automation.do, webhookAllowedHosts)) {
        problems.push({ path: at(field), stepId: task.id, message: `task "${task.id}": automations[${k}].do.${field}: ${message}` });
      }
    }
  }
  if (problems.length) return { problems, definition };
  return { problems, definition: await pinTemplates(db, definition) };
}

/** Why a lookup fails (a 404's message, or a template with no approved version), or undefined when it finds what it looks for. */
const missing = (lookup: Promise<unknown>) => lookup.then(() => undefined, (err: unknown) => {
  if (err instanceof DomainError && (err.status === 404 || err.code === 'template_not_approved')) return err.message;
  throw err;
});

async function actionProblems(db: Database, action: ProcessAutomationAction, allowedHosts: readonly string[]): Promise<Array<{ field: string; message: string | undefined }>> {
  const journey = 'journey' in action && typeof action.journey === 'string' ? [{ field: 'journey', message: await missing(getJourney(db, action.journey)) }] : [];
  switch (action.type) {
    case 'publish_journey':
    case 'pause_journey':
    case 'resume_journey':
      return journey.filter((p) => p.message);
    case 'enrol_segment':
    case 'update_contacts':
      return [...journey, { field: 'segment', message: await missing(getSegment(db, action.segment)) }].filter((p) => p.message);
    case 'webhook':
      return [{ field: 'url', message: webhookTargetRefusal(action.url, allowedHosts) }].filter((p) => p.message);
    case 'send_email': {
      const to = action.to;
      const recipient = 'from' in to ? undefined : 'userId' in to ? await missing(getUser(db, to.userId)) : await missingPrincipal(db, to);
      return [
        { field: 'template', message: await missing(getTemplate(db, action.template, action.templateVersion)) },
        { field: 'to', message: recipient },
      ].filter((p) => p.message);
    }
    default: {
      const unhandled: never = action;
      throw new Error(`No automation ${JSON.stringify(unhandled)}`);
    }
  }
}

/** The definition with each send_email automation's template pinned to the version it names, else the latest. */
async function pinTemplates(db: Database, definition: ProcessDefinition): Promise<ProcessDefinition> {
  const sections = [];
  for (const section of definition.sections) {
    const tasks = [];
    for (const task of section.tasks) {
      if (!task.automations?.some((a) => a.do.type === 'send_email' && a.do.templateVersion === undefined)) { tasks.push(task); continue; }
      const automations = [];
      for (const a of task.automations) {
        automations.push(a.do.type === 'send_email' && a.do.templateVersion === undefined
          ? { ...a, do: { ...a.do, templateVersion: (await getTemplate(db, a.do.template)).version } } : a);
      }
      tasks.push({ ...task, automations });
    }
    sections.push({ ...section, tasks });
  }
  return { ...definition, sections };
}
