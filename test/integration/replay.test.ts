import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { testEnvironment } from '../support/env';

const DIR = path.join(__dirname, '..', 'histories');
const histories = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

/**
 * Committed histories, recorded from the real server, replayed through today's workflow code:
 * a change that would break running enrolments (non-determinism) fails here.
 */
describe('replaying recorded histories', () => {
  it('has histories to replay', () => {
    // One per recorded scenario at least (test/record/record-histories.ts); a file is never deleted
    // while enrolments that ran its code may still be running.
    expect(histories.length).toBeGreaterThanOrEqual(13);
  });

  it.each(histories)('%s replays without non-determinism', async (file) => {
    const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { codePath: testEnvironment().workflowBundlePath } }, history, `replay-${file}`);
  });
});
