import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import type { EnrolmentRow, JourneyRow } from '../../db/schema';
import { ContactId, EnrolmentStatusKey, JourneyKey, JourneyStep, JourneyVersion } from '../../workflows/contract';
import { cancelEnrolmentSignal, journeyWorkflow, type EnrolmentInput } from '../../workflows/contract';
import { getVersion } from '../journeys/journeys';
import { recordProgress } from './progress';
import { getEnrolment } from './rows';

/** What enrolling needs: the rows' database, and Temporal to start and cancel the enrolments' runs. */
export interface EnrolDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
}


/** Asks an enrolment to end as cancelled (it records its own end); idempotent. */
export async function cancelEnrolment(deps: EnrolDeps, id: string, reason: string): Promise<EnrolmentRow> {
  const enrolment = await getEnrolment(deps.db, id);
  if (enrolment.status !== 'running') return enrolment;
  try {
    await deps.temporal.workflow.getHandle(enrolment.workflowId).signal(cancelEnrolmentSignal, { reason });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await recordProgress(deps.db, id, { status: 'cancelled', currentStep: null });
  }
  return enrolment;
}

/**
 * Starts the run of a `running` enrolment whose run Temporal does not know (a crash between the
 * row's insert and the start), asked again: one describe. A finished enrolment, or one whose run
 * exists, is left alone: a run is never started again for an enrolment that ended, even once
 * Temporal no longer retains its closed run (REJECT_DUPLICATE protects only while it does).
 */
export async function startMissingWorkflow(deps: EnrolDeps, enrolment: EnrolmentRow, journey: JourneyRow): Promise<void> {
  if (enrolment.status !== 'running') return;
  try {
    await deps.temporal.workflow.getHandle(enrolment.workflowId).describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await startWorkflow(deps, enrolment, journey);
  }
}

/** Starts the enrolment's workflow; a no-op when it runs or ran already. */
export async function startWorkflow(deps: EnrolDeps, enrolment: EnrolmentRow, journey: JourneyRow): Promise<void> {
  const version = await getVersion(deps.db, enrolment.journeyId, enrolment.journeyVersion);
  const input: EnrolmentInput = {
    enrolmentId: enrolment.id, journeyKey: enrolment.journeyKey, journeyVersion: enrolment.journeyVersion,
    contactId: enrolment.contactId, definition: version.definition,
  };
  try {
    await deps.temporal.workflow.start(journeyWorkflow, {
      workflowId: enrolment.workflowId,
      taskQueue: deps.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: JourneyKey, value: enrolment.journeyKey },
        { key: JourneyVersion, value: enrolment.journeyVersion },
        { key: ContactId, value: enrolment.contactId },
        { key: JourneyStep, value: version.definition.steps[0]!.id },
        { key: EnrolmentStatusKey, value: 'running' },
      ],
      staticSummary: `Journey "${journey.name}" (${journey.key} v${enrolment.journeyVersion}) for contact ${enrolment.contactId}`,
      staticDetails: `Enrolment ${enrolment.id}, sequence ${enrolment.sequence}. ` +
        `Steps: ${version.definition.steps.map((s) => `${s.id} (${s.type})`).join(' → ')}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
