import { Liquid } from 'liquidjs';

/**
 * The journey language's template dialect: Liquid, configured for data that comes from strangers.
 * Contacts, events, tasks and approvals reach a template only as variables, never as its source
 * (services/lib/templates.ts renders once). The engine:
 * - reads no files: `include`, `render` and `layout` are refused when a template is parsed (so at
 *   publish), and the engine's template store is an empty in-memory map, not the file system;
 * - bounds the work one template may cause: its length, its render time and what it allocates
 *   (nested `for` loops over a contact's data fail instead of exhausting a worker's memory);
 * - reads only own properties of the data (no prototype walks) and strict filters.
 * HTML parts render with `htmlLiquid`, which escapes every output unless a template says `| raw`.
 */
const options = {
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  cache: 500,
  templates: {},
  parseLimit: 200_000,
  renderLimit: 2_000,
  memoryLimit: 10_000_000,
} as const;

/** Plain-text parts, subjects, task titles and webhook bodies. */
export const liquid = new Liquid(options);
/** HTML parts: `{{ contact.firstName }}` with markup in it shows as text. */
export const htmlLiquid = new Liquid({ ...options, outputEscape: 'escape' });

for (const engine of [liquid, htmlLiquid]) {
  for (const tag of ['include', 'render', 'layout']) {
    engine.registerTag(tag, {
      parse() {
        throw new Error(`{% ${tag} %} is not available: templates cannot read files or other templates`);
      },
      render() {
        return '';
      },
    });
  }
}

/** The reason a template does not parse, or undefined when it does. */
export function templateProblem(source: string): string | undefined {
  try {
    liquid.parse(source);
    return undefined;
  } catch (err) {
    return `does not parse as a Liquid template: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * The top-level names a template reads from its data (`contact`, `trigger`, ...), found by
 * static analysis without rendering; publish checks them against what exists at the step.
 */
export function templateRoots(source: string): string[] {
  return liquid.globalVariablesSync(source);
}
