import type { Step } from '../services/journey-definition';

/** A step in plain words, for the Temporal UI's current details and summaries. */
export function describeStep(step: Step): string {
  switch (step.type) {
    case 'send_email':
      return `Sending email "${step.subject}" (step ${step.id})`;
    case 'wait':
      return `Waiting ${step.duration} (step ${step.id})`;
    case 'update_contact':
      return `Updating the contact (step ${step.id})`;
    case 'exit':
      return `Exiting: ${step.reason} (step ${step.id})`;
    default: {
      const unknown: never = step;
      return `Step ${(unknown as Step).id}`;
    }
  }
}
