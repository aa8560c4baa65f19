import { LiquidError } from 'liquidjs';
import { htmlLiquid, liquid } from '../../journey-language/templates';
import { PermanentError } from './errors';

export { templateProblem } from '../../journey-language/templates';

/**
 * Renders a stored template once, with data passed as variables (never pasted into the source).
 * A template that fails on this data (an error, or past the engine's time or memory limits)
 * fails the same way on every retry: a permanent error of the step that renders it.
 */
export async function renderTemplate(source: string, scope: Record<string, unknown>, as: 'text' | 'html' = 'text'): Promise<string> {
  try {
    return await (as === 'html' ? htmlLiquid : liquid).parseAndRender(source, scope);
  } catch (err) {
    if (err instanceof LiquidError) throw new PermanentError('template_failed', `the template cannot render: ${err.message.split('\n')[0]}`);
    throw err;
  }
}
