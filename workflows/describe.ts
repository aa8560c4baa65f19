import type { Step } from '../journey-language';

/** A step in plain words, for the Temporal UI's current details. */
export function describeStep(step: Step): string {
  switch (step.type) {
    case 'send_email':
      return `Sending email "${step.template ?? step.subject}" (step ${step.id})`;
    case 'wait':
      return step.duration ? `Waiting ${step.duration} (step ${step.id})` : `Waiting for an allowed time of day (step ${step.id})`;
    case 'wait_for_event':
      return `Waiting up to ${step.timeout} for event "${step.event}" (step ${step.id})`;
    case 'branch':
      return `Choosing a branch (step ${step.id})`;
    case 'split':
      return `Assigning an A/B variant (step ${step.id})`;
    case 'update_contact':
      return `Updating the contact (step ${step.id})`;
    case 'send_message':
      return `Sending a message on ${step.channel === 'preferred' ? "the contact's preferred channel" : step.channel} (step ${step.id})`;
    case 'assign_owner':
      return `Assigning an owner round-robin (step ${step.id})`;
    case 'notify':
      return `Calling webhook ${step.url} (step ${step.id})`;
    case 'approval':
      return `Waiting for an approval decision on "${step.title}" (step ${step.id})`;
    case 'task':
      return `Waiting for "${step.title}" to be accepted (step ${step.id})`;
    case 'exit':
      return `Exiting: ${step.reason} (step ${step.id})`;
    default: {
      const unknown: never = step;
      return `Step ${(unknown as Step).id}`;
    }
  }
}
