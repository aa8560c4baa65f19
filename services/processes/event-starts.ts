import { and, asc, eq, isNotNull } from 'drizzle-orm';
import type { EventRow } from '../../db/schema';
import { processes } from '../../db/schema';
import { eventInputs, eventStarts, MAX_PROCESSES_PER_EVENT, type StartingEvent } from '../../journey-language';
import { appendAudit } from '../audit/records';
import { DomainError } from '../lib/errors';
import { getProcessVersion } from './definitions';
import { derivedRunId } from './run-ids';
import { startRun, type ProcessDeps } from './runs';

/** What an event did to one process that starts on it: a run started (or found, for a redelivery), or none, and why. */
export type EventProcessStart =
  | { processKey: string; outcome: 'started'; runId: string }
  | { processKey: string; outcome: 'refused'; runId: null; reason: string; problems: Array<{ path: string; message: string }> };

/**
 * Starts a run of each process whose `startOn` the event matches (at most
 * MAX_PROCESSES_PER_EVENT, by key). The run's id is derived from the event and the process, so
 * a redelivered event finds its run and starts no second one. The event's properties are
 * untrusted: mapped into inputs and checked by the definition's input schema. A start they fail
 * is refused, recorded in the contact's audit chain (`process.start_refused`, the problems'
 * paths and messages, no values) and reported, never thrown: the event stays accepted.
 */
export async function startProcessesOnEvent(deps: ProcessDeps, event: EventRow): Promise<EventProcessStart[]> {
  const candidates = await deps.db.select().from(processes)
    .where(and(eq(processes.startEvent, event.name), isNotNull(processes.latestVersion)))
    .orderBy(asc(processes.key)).limit(MAX_PROCESSES_PER_EVENT);
  const starting: StartingEvent = {
    id: event.id, name: event.name, occurredAt: event.occurredAt.toISOString(), properties: event.properties, contactId: event.contactId,
  };
  const outcomes: EventProcessStart[] = [];
  for (const process of candidates) {
    const { definition } = await getProcessVersion(deps.db, process.id, process.latestVersion!);
    if (!definition.startOn || !eventStarts(definition.startOn, starting)) continue;
    const runId = derivedRunId(`event:${event.id}:${process.key}`);
    try {
      const run = await startRun(deps, process.key, eventInputs(definition.startOn, starting), `event:${event.id}`, { runId });
      outcomes.push({ processKey: process.key, outcome: 'started', runId: run.id });
    } catch (err) {
      if (!(err instanceof DomainError) || err.status !== 422) throw err;
      const problems = refusalProblems(err);
      await appendAudit(deps.db, {
        actor: 'api', action: 'process.start_refused', outcome: 'refused', contactId: event.contactId,
        idempotencyKey: `event:${event.id}:process:${process.key}:refused`,
        details: { processKey: process.key, version: process.latestVersion, eventId: event.id, event: event.name, reason: err.message, problems },
      });
      outcomes.push({ processKey: process.key, outcome: 'refused', runId: null, reason: err.message, problems });
    }
  }
  return outcomes;
}

/** The refusal's problems, their paths under `inputs.` (what the event's mapping gave the run). */
function refusalProblems(err: DomainError): Array<{ path: string; message: string }> {
  const problems = (err.details as { problems?: Array<{ path: string; message: string }> } | undefined)?.problems ?? [];
  return problems.map((p) => ({ path: p.path.replace(/^body\./, ''), message: p.message }));
}
