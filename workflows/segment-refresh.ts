import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { JourneyActivities } from '../activities';
import type { SegmentRefreshInput, SegmentRefreshResult, SegmentRefreshWorkflow } from './contract';

/** A page decides up to 500 contacts and sends their segment events: minutes at most, retried a while. */
const scanning = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const PAGES_PER_RUN = 100;

/**
 * Re-evaluates segment membership over every contact, a page per activity (each idempotent: a
 * retried page records no change twice), carrying only a cursor and counts; continues as new
 * after `pagesPerRun` pages or when Temporal suggests it.
 */
export async function segmentRefreshWorkflow(input: SegmentRefreshInput): Promise<SegmentRefreshResult> {
  let { after } = input;
  const totals = { scanned: input.scanned ?? 0, entered: input.entered ?? 0, left: input.left ?? 0 };
  const what = input.segmentKey ? `segment ${input.segmentKey}` : 'time-relative segments';
  for (let pages = 1; ; pages += 1) {
    const page = await scanning.refreshSegmentPage.executeWithOptions(
      { summary: `Re-evaluate ${what} after ${after ?? 'the start'}` },
      [{ segmentKey: input.segmentKey, after, pageSize: input.pageSize }],
    );
    totals.scanned += page.scanned;
    totals.entered += page.entered;
    totals.left += page.left;
    if (!page.nextCursor) return totals;
    after = page.nextCursor;
    if (pages >= (input.pagesPerRun ?? PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<SegmentRefreshWorkflow>({ ...input, after, ...totals });
    }
  }
}
segmentRefreshWorkflow satisfies SegmentRefreshWorkflow;
