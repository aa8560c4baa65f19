import { liquid } from '../journey-language/templates';

export { templateProblem } from '../journey-language/templates';

export function renderTemplate(source: string, scope: Record<string, unknown>): Promise<string> {
  return liquid.parseAndRender(source, scope);
}
