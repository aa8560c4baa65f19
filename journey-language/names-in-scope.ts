import { readsEvent, readsTrigger, type Condition } from './condition-schema';
import { exits, type Step } from './steps';
import { templateRoots } from './templates';

/**
 * Which names a definition's conditions and templates may read at each step, checked at publish:
 * - `trigger.*` (the event that started the enrolment) only in a journey with an event trigger,
 *   anywhere in it: conditions of steps, the goal and exits, and templates;
 * - `event.*` where an event is at hand: the trigger's condition, wait_for_event, the goal and
 *   exits (the event that arrived), and a branch that is entered only right after a
 *   wait_for_event received its event (through that step's `next`, or through such branches).
 * Each problem names the step (or part of the definition) and the field.
 */
export interface NameProblem {
  path: Array<string | number>;
  message: string;
}

interface DefinitionParts {
  trigger?: { type?: string };
  goal?: { condition?: Condition };
  exits?: Array<{ condition?: Condition } | undefined>;
}

export function nameProblems(def: DefinitionParts, steps: Step[]): NameProblem[] {
  const problems: NameProblem[] = [];
  const eventTrigger = def.trigger?.type === 'event';
  const noTrigger = (path: Array<string | number>, where: string) =>
    problems.push({ path, message: `${where}: trigger.* fields are only available in journeys with an event trigger` });
  if (!eventTrigger) {
    if (holds(() => readsTrigger(def.goal?.condition))) noTrigger(['goal', 'condition'], 'goal');
    (Array.isArray(def.exits) ? def.exits : []).forEach((exit, k) => {
      if (holds(() => readsTrigger(exit?.condition))) noTrigger(['exits', k, 'condition'], `exit ${k + 1}`);
    });
  }
  const atHand = branchesWithEventAtHand(steps);
  steps.forEach((step, i) => {
    for (const { path, condition } of conditionsOf(step)) {
      if (!eventTrigger && holds(() => readsTrigger(condition))) noTrigger(['steps', i, ...path], `step "${step.id}"`);
      const eventAtHand = step.type === 'wait_for_event' || atHand.has(step.id);
      if (!eventAtHand && holds(() => readsEvent(condition))) {
        problems.push({
          path: ['steps', i, ...path],
          message: `step "${step.id}": event.* fields are only available in wait_for_event, goal, exits, event triggers and branches entered right after a wait_for_event received its event`,
        });
      }
    }
    if (!eventTrigger) {
      for (const { field, source } of templatesOf(step)) {
        if (holds(() => templateRoots(source).includes('trigger'))) noTrigger(['steps', i, field], `step "${step.id}"`);
      }
    }
  });
  return problems;
}

/** The conditions a step evaluates, with the path of each. */
function conditionsOf(step: Step): Array<{ path: Array<string | number>; condition: Condition | undefined }> {
  if (step.type === 'branch' && Array.isArray(step.cases)) return step.cases.map((c, k) => ({ path: ['cases', k, 'condition'], condition: c?.condition }));
  if (step.type === 'wait_for_event') return [{ path: ['condition'], condition: step.condition }];
  return [];
}

/** The Liquid sources of a step (its inline content), with their fields. */
function templatesOf(step: Step): Array<{ field: string; source: string }> {
  const fields: Record<string, unknown> = step.type === 'send_email' ? { subject: step.subject, text: step.text, html: step.html }
    : step.type === 'send_message' ? { email: step.email === undefined ? undefined : JSON.stringify(step.email), sms: step.sms?.text }
    : step.type === 'approval' || step.type === 'task' ? { title: step.title, description: step.description }
      : step.type === 'notify' ? { text: step.text, body: step.body === undefined ? undefined : JSON.stringify(step.body) } : {};
  return Object.entries(fields).flatMap(([field, source]) => (typeof source === 'string' ? [{ field, source }] : []));
}

/**
 * Branches every way into which comes right after a wait_for_event received its event: through a
 * wait_for_event's `next` (not `onTimeout`), or from another such branch. The first step is
 * entered from nowhere, so it never has an event at hand.
 */
export function branchesWithEventAtHand(steps: Step[]): Set<string> {
  const into = new Map<string, Array<{ from: Step; field: string }>>();
  for (const from of steps) {
    for (const exit of safe(() => exits(from))) {
      const list = into.get(exit.target) ?? [];
      list.push({ from, field: exit.field });
      into.set(exit.target, list);
    }
  }
  const candidates = steps.filter((s, i) => i > 0 && s.type === 'branch').map((s) => s.id);
  // Start from every candidate and drop those with a way in that carries no event, until none drops.
  const atHand = new Set(candidates);
  for (let changed = true; changed;) {
    changed = false;
    for (const id of [...atHand]) {
      const ways = into.get(id) ?? [];
      const carries = ways.length > 0 && ways.every(({ from, field }) =>
        (from.type === 'wait_for_event' && field === 'next') || (from.type === 'branch' && atHand.has(from.id)));
      if (!carries) {
        atHand.delete(id);
        changed = true;
      }
    }
  }
  return atHand;
}

/** A check of a malformed part (validation reports it elsewhere) finds nothing. */
function holds(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

function safe<T>(fn: () => T): T | never[] {
  try {
    return fn();
  } catch {
    return [];
  }
}
