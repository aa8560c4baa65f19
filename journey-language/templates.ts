import { Liquid } from 'liquidjs';

/** The journey language's template dialect: Liquid with strict filters, lenient variables (defaults apply). */
export const liquid = new Liquid({ strictFilters: true, strictVariables: false, cache: 500 });

/** The reason a template does not parse, or undefined when it does. */
export function templateProblem(source: string): string | undefined {
  try {
    liquid.parse(source);
    return undefined;
  } catch (err) {
    return `does not parse as a Liquid template: ${(err as Error).message.split('\n')[0]}`;
  }
}
