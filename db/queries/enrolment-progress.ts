import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../client';
import { enrolments, type EnrolmentStatus } from '../schema';
import { compiledStatement, runStatement, type ParamOf } from '../statements';

/** Where an enrolment is: its current step and status, as its workflow moves it. */
export interface EnrolmentProgress { currentStep?: string | null; status?: EnrolmentStatus }

/** The named values of `progressUpdate`. */
export interface ProgressValues {
  enrolmentId: string;
  setStep: boolean;
  currentStep: string | null;
  status: EnrolmentStatus | null;
  ended: boolean;
}

export function progressValues(enrolmentId: string, progress: EnrolmentProgress): ProgressValues {
  return {
    enrolmentId,
    setStep: progress.currentStep !== undefined,
    currentStep: progress.currentStep ?? null,
    status: progress.status ?? null,
    ended: progress.status !== undefined && progress.status !== 'running',
  };
}

/**
 * The enrolment row's update to a new step and/or status, as SQL of one shape whatever changes
 * (so it compiles once): an ended status stamps `ended_at` once. `onlyIf` limits it further.
 */
export function progressUpdate(param: ParamOf<ProgressValues>, onlyIf: SQL = sql`true`): SQL {
  return sql`update ${enrolments} set
    current_step = case when ${param('setStep')}::boolean then ${param('currentStep')}::text else ${enrolments.currentStep} end,
    status = coalesce(${param('status')}::text, ${enrolments.status}),
    ended_at = case when ${param('ended')}::boolean then coalesce(${enrolments.endedAt}, now()) else ${enrolments.endedAt} end
    where ${enrolments.id} = ${param('enrolmentId')}::uuid and ${onlyIf}`;
}

const recordProgressStatement = compiledStatement<ProgressValues>('nurture_record_progress', (param) => progressUpdate(param));

/** Moves the enrolment row to a new step and/or status (the same update an audit append can carry). */
export async function updateEnrolmentProgress(db: Database, enrolmentId: string, progress: EnrolmentProgress): Promise<void> {
  await runStatement(db, recordProgressStatement, progressValues(enrolmentId, progress));
}
