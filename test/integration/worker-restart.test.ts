import type { ChildProcess } from 'node:child_process';
import { and, eq } from 'drizzle-orm';
import { auditRecords, tasks } from '../../db/schema';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';
import { killWorkerProcess, startWorkerProcess } from '../support/worker-process';

/** The next UTC minute at least `leadMs` away, as "HH:MM". */
function nextMinuteUtc(leadMs: number): string {
  const at = new Date(Math.ceil((Date.now() + leadMs) / 60_000) * 60_000);
  return `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
}

/**
 * Enrolments asleep in a time-of-day wait and in an approval with reminders survive a kill -9 of
 * the worker (production settings: its own process, the default workflow cache): the next worker
 * replays them from history with another wall clock and they end as they would have.
 */
describe('worker restart in the middle of waits', () => {
  let h: Harness;
  let worker: ChildProcess | undefined;
  beforeAll(async () => { h = await startHarness({ worker: false }); });
  afterAll(async () => {
    await killWorkerProcess(worker);
    await h?.stop();
  });

  it('a time-of-day wait and an approval that was reminded complete after the worker is killed and replaced', async () => {
    const approver = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles: [] });
    const approverKey = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: approver.body.id });
    const morning = await h.publish({ steps: [
      { id: 'morning', type: 'wait', until: { at: nextMinuteUtc(20_000), timezone: 'UTC' }, next: 'mark' },
      { id: 'mark', type: 'update_contact', addTags: ['woke'] },
    ] });
    const approval = await h.publish({ steps: [
      { id: 'approve', type: 'approval', title: 'Send the offer?', assignee: { user: approver.body.email },
        remindAfter: '2s', escalateAfter: '10m', escalateTo: { user: approver.body.email }, expireAfter: '1h', onApprove: 'yes' },
      { id: 'yes', type: 'update_contact', addTags: ['approved'] },
    ] });
    worker = startWorkerProcess(h);
    const sleeper = (await h.api('POST', `/v1/journeys/${morning}/enrolments`, { contact: { email: uniqueEmail('morning') } })).body;
    const asker = (await h.api('POST', `/v1/journeys/${approval}/enrolments`, { contact: { email: uniqueEmail('asker') } })).body;
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${sleeper.id}`)).body.currentStep === 'morning');
    const reminded = () => h.database.db.select().from(auditRecords)
      .where(and(eq(auditRecords.enrolmentId, asker.id), eq(auditRecords.action, 'task.reminded')));
    await eventually(async () => (await reminded()).length === 1);

    await killWorkerProcess(worker);
    worker = startWorkerProcess(h);

    const [task] = await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, asker.id));
    const decided = await eventually(async () => {
      const r = await h.api('POST', `/v1/tasks/${task!.id}/complete`, { decision: 'approve', values: {} }, { authorization: `Bearer ${approverKey.body.key}` });
      return r.status === 200 ? r : undefined;
    });
    expect(decided.body.status).toBe('approved');
    expect(await h.result(asker.workflowId)).toMatchObject({ status: 'completed' });
    expect(await h.result(sleeper.workflowId)).toMatchObject({ status: 'completed' });
    expect((await h.api('GET', `/v1/contacts/${sleeper.contactId}`)).body.tags).toEqual(['woke']);
    expect((await h.api('GET', `/v1/contacts/${asker.contactId}`)).body.tags).toEqual(['approved']);
    // Each side effect once: one reminder recorded and one reminder email, across both workers.
    expect(await reminded()).toHaveLength(1);
    const toApprover = h.smtp.to(approver.body.email).map((m) => m.parsed.subject);
    expect(toApprover.filter((s) => /remind/i.test(s ?? ''))).toHaveLength(1);
  }, 150_000);
});
