/**
 * The journey language, one pure module (no I/O, no clock) that the API, the services and the
 * workflows share: the definition and step schemas (the single source of their types, validation
 * and OpenAPI schema), conditions and their evaluator, durations, time-of-day rules, A/B split
 * assignment, approval form validation and the template dialect.
 */
export * from './addresses';
export * from './condition-schema';
export * from './conditions';
export * from './contact-fields';
export * from './definition';
export * from './durations';
export * from './form';
export * from './process';
export * from './process-automations';
export * from './process-run';
export * from './process-start';
export * from './process-timing';
export * from './process-escalation';
export * from './segment-conditions';
export * from './split';
export * from './templates';
export * from './time-of-day';
export * from './webhook-targets';
