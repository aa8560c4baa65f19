import type { ReviewSubject } from '../../workflows/contract';

/**
 * What every review run shares, whatever it reviews (a journey draft, a template version): how
 * its end is described, and who may not approve it. `concludeReview` (review-end.ts) decides by kind.
 */
export interface ReviewEnd<S extends ReviewSubject = ReviewSubject> {
  runId: string;
  workflowId: string;
  processKey: string;
  status: 'completed' | 'rejected';
  review: S;
  /** Concluded early by an automation of this task (`publish_journey`), while the run goes on. */
  byTask?: string;
}

/** Four eyes: the user ids that may not approve a review of what `author` wrote (an API key names no user). */
export const excludedApproversOf = (author: string) => (author.startsWith('user:') ? [author.slice('user:'.length)] : []);
