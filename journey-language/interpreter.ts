/**
 * The part of the journey language the workflow interpreter runs: condition evaluation, A/B
 * assignment, durations and approval form checks. Plain functions without zod or Liquid, so the
 * workflow bundle carries none of the schema or template machinery (workflows import their types
 * from the whole module, which costs nothing at run time).
 */
export { evaluate, readsEngagement, type Facts } from './conditions';
export { durationToMs, msOf } from './durations';
export { validateValues, type FormProblem } from './form';
export { assign, bucketOf } from './split';
export {
  approvalMove, approvalOutcome, approvalStages, automationFires, currentStage, dueAtOf, dueBaseOf, openingOf, holdersOf, isFinished, nextMoves, orderedTasks, processFacts, progressOf, slotFor,
  type ApprovalMove, type ApprovalSlot, type ProcessProgress, type ProcessTaskStatus, type RunTask,
} from './process-run';
export { undecidedSlots, widenSlots } from './process-escalation';
