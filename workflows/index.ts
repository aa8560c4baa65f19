/**
 * The workflow bundle's entry: the implementation of every workflow type the worker registers.
 * Callers never import these: they start workflows through the stand-ins of the same names in
 * ./contract.ts, which also holds the signals, queries and updates.
 */
export { auditCheckpointWorkflow, auditVerificationWorkflow } from './audit';
export { journeyWorkflow } from './journey';
export { processWorkflow } from './process';
export { scheduledEnrolmentWorkflow } from './scheduled-enrolment';
export { scheduledProcessStartWorkflow } from './scheduled-process-start';
export { segmentRefreshWorkflow } from './segment-refresh';
export { testRunScriptWorkflow } from './test-run-script';
