/** The workflow bundle's entry: every workflow type the worker registers. */
export { journeyWorkflow, enrolmentStateQuery } from './journey';
export { journeyEventSignal, cancelEnrolmentSignal } from './events';
export { scheduledEnrolmentWorkflow } from './scheduled-enrolment';
export { testRunScriptWorkflow } from './test-run-script';
