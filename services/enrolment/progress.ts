import type { Database } from '../../db/client';
import { updateEnrolmentProgress, type EnrolmentProgress } from '../../db/queries/enrolment-progress';

export type { EnrolmentProgress } from '../../db/queries/enrolment-progress';

/** Keeps the enrolment row's current step and status in step with its workflow. */
export async function recordProgress(db: Database, enrolmentId: string, progress: EnrolmentProgress): Promise<void> {
  await updateEnrolmentProgress(db, enrolmentId, progress);
}
