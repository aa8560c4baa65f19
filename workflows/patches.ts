/**
 * patched() ids of changes made to the workflow code while enrolments were running. Each guards
 * the new behaviour; histories recorded before it take the old path (test/histories replays both).
 * Remove a patch's old branch with deprecatePatch() once no enrolment started before it runs.
 */

/** 2026-11-25: audit and progress writes run as local activities (before: regular activities). */
export const LOCAL_RECORDING_PATCH = 'record-steps-locally';

/**
 * 2026-11-25, fewer round trips per step (before: the old paths beside each use):
 * - a branch reads its facts, decides and records its decision in one local activity;
 * - the JourneyStep search attribute moves only to steps where an enrolment rests (waits, approvals);
 * - the last step's record and the enrolment's end record are written together.
 */
export const FEWER_ROUND_TRIPS_PATCH = 'fewer-round-trips';

/**
 * 2026-11-28: an enrolment that enters one step more than `maxStepVisits` times (default 1,000)
 * ends `failed` (before: it looped on). Asked only when the bound is passed, so a run within
 * it records no marker; a run past it before the change replays its old steps unchanged.
 */
export const STEP_VISIT_LIMIT_PATCH = 'step-visit-limit';

/**
 * 2026-11-28: an event signalled without its facts (id and name only: no properties, no contact
 * snapshot) has its goal, exit and wait_for_event conditions decided by the local activity
 * `matchEventConditions`, which reads the event and the contact in PostgreSQL (before: every
 * event carried them and the workflow evaluated them itself). Asked only for such an event,
 * so a run that never gets one records no marker; events that carry their facts take the old path.
 */
export const EVENT_FACTS_BY_ID_PATCH = 'event-facts-by-id';

/**
 * 2026-11-29: goals and exits on contact state and segments. A goal with a condition and no event
 * converts, and an exit with a condition alone ends, when the event `contact.changed` (sent when
 * the contact changes) finds the condition holding; an exit `{ segmentLeft }` ends on
 * `segment.left` of that segment (before: no such rules existed; those events only reached the
 * inbox). Asked only when such an event meets such a rule, which no run from before can have.
 */
export const SEGMENT_AND_STATE_RULES_PATCH = 'segment-and-state-rules';

/**
 * 2026-11-29: before each marketing send (send_email, send_message) a local activity
 * `nextSendingMoment` says when the sending window (the journey's `sendingWindow`, else
 * SENDING_WINDOW) is next open in the contact's time zone, and the send waits for it on a durable
 * timer (before: sends went out at once). Runs before it never ask and replay unchanged.
 */
export const SENDING_WINDOW_PATCH = 'sending-window';

/**
 * 2026-11-29: a process run that reviews a journey's draft (started with `review`, a publish
 * policy) ends by calling `concludeJourneyReview`, which publishes exactly the reviewed draft or
 * records why not (before: no run had a review). Asked only by such runs, none from before.
 * Template reviews (`review.kind: 'template'`, added later) ask it too and conclude through
 * `concludeReview` instead: every such run is new, so no journey review's commands changed.
 */
export const JOURNEY_REVIEW_PATCH = 'journey-review-publish';

/**
 * 2026-11-29: a `task` step takes two acts: its holder accepts it within `acceptWithin` (update
 * `acceptTask`), then completes it with the form within `completeWithin` or declines it
 * (`onDecline`); a pool's first holder is whose turn it is in assign_owner's rotation, and
 * `remindAfter` reminds a holder who has not accepted (before: approving the task accepted and
 * completed it at once, and a pool always started with its first member). Asked when a task step
 * begins; a step begun before it runs to its end the old way (workflows/task-legacy.ts).
 */
export const TASK_ACCEPTANCE_PATCH = 'task-acceptance';
