import { LiquidError } from 'liquidjs';
import { liquid } from '../journey-language/templates';
import { PermanentError } from './errors';

export { templateProblem } from '../journey-language/templates';

/**
 * Renders a stored template with data. A template that fails on this data fails the same way on
 * every retry: it is a permanent error of the step that renders it.
 */
export async function renderTemplate(source: string, scope: Record<string, unknown>): Promise<string> {
  try {
    return await liquid.parseAndRender(source, scope);
  } catch (err) {
    if (err instanceof LiquidError) throw new PermanentError('template_failed', `the template cannot render: ${err.message.split('\n')[0]}`);
    throw err;
  }
}
