import { decideBranch, type BranchDecisionRequest } from '../services/enrolment/branch-decisions';
import { metrics } from '../services/lib/metrics';
import type { ActivityDeps } from './index';

export function createBranchActivities(deps: ActivityDeps) {
  return {
    /** Reads the contact, decides a branch and records the decision (once: a retry gets the recorded one). */
    async decideBranch(input: BranchDecisionRequest): Promise<{ index: number }> {
      const decision = await decideBranch(deps.db, input);
      metrics.stepsExecuted.inc({ type: 'branch', outcome: decision.index >= 0 ? `case ${decision.index + 1}` : 'default' });
      return decision;
    },
  };
}
