import { inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { segments } from '../../db/schema';
import type { JourneyDefinition } from '../../journey-language';
import type { FieldProblem } from '../lib/errors';

/**
 * The saved segments a definition names (`trigger.segment`, `exits[].segmentLeft`) that do not
 * exist, each naming its field: such a trigger or exit would never fire.
 */
export async function segmentReferenceProblems(db: Database, definition: JourneyDefinition): Promise<FieldProblem[]> {
  const references: Array<{ path: string; key: string }> = [];
  const { trigger } = definition;
  if (trigger.type === 'segment' && trigger.segment !== undefined) references.push({ path: 'definition.trigger.segment', key: trigger.segment });
  definition.exits.forEach((exit, i) => {
    if ('segmentLeft' in exit) references.push({ path: `definition.exits[${i}].segmentLeft`, key: exit.segmentLeft });
  });
  if (!references.length) return [];
  const rows = await db.select({ key: segments.key }).from(segments).where(inArray(segments.key, references.map((r) => r.key)));
  const found = new Set(rows.map((r) => r.key));
  return references.filter((r) => !found.has(r.key)).map((r) => ({ path: r.path, message: `there is no segment "${r.key}" (POST /v1/segments)` }));
}
