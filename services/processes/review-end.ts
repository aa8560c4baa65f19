import { concludeTemplateReview } from '../email/template-reviews';
import { concludeJourneyReview, type ReviewDeps } from '../journeys/reviews';
import type { ReviewEnd } from './review-subjects';

/** What a review's end did: the journey review's outcome and published version, or the template version's status. */
export type ReviewConclusion =
  | { outcome: 'published' | 'rejected' | 'refused' | 'pending'; publishedVersion: number | null }
  | { kind: 'template'; outcome: 'approved' | 'rejected' | 'pending_review'; version: number };

/**
 * A review run's end, decided by what it reviewed: a journey draft is published (or refused, or
 * left as it was when rejected); a template version is approved or rejected. Idempotent per run.
 */
export async function concludeReview(deps: ReviewDeps, end: ReviewEnd): Promise<ReviewConclusion> {
  const { review } = end;
  switch (review.kind) {
    case undefined:
    case 'journey': {
      const row = await concludeJourneyReview(deps, { ...end, review });
      return { outcome: row.outcome, publishedVersion: row.publishedVersion };
    }
    case 'template': {
      const row = await concludeTemplateReview(deps.db, { ...end, review });
      return { kind: 'template', outcome: row.status, version: row.version };
    }
    default:
      return review satisfies never;
  }
}
