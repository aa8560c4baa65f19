import type { z } from 'zod';
import type { FieldProblem } from './errors';

/** "steps[2].next" from ['steps', 2, 'next']. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** zod issues as field problems; a problem inside a step also names the step's id. */
export function toProblems(error: z.ZodError, prefix = '', input?: unknown): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path, prefix);
    const stepId = stepIdAt(input, issue.path);
    const message = stepId && !issue.message.startsWith('step "') ? `step "${stepId}": ${issue.message}` : issue.message;
    return stepId ? { path, message, stepId } : { path, message };
  });
}

function stepIdAt(input: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'steps' || typeof path[1] !== 'number') return undefined;
  const steps = (input as { steps?: unknown } | undefined)?.steps;
  const step = Array.isArray(steps) ? steps[path[1]] : undefined;
  const id = (step as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}
