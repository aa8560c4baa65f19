import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { tasks, users } from '../../db/schema';
import { decideTaskUpdate } from '../../workflows/contract';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

/**
 * Who may decide an approval is resolved when the task opens (role members included) and kept in
 * the workflow; the decideTask update carries only the deciding user's id and any roles its
 * caller claims are ignored.
 */
describe('decision authority', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function approver(roles: string[]) {
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles });
    const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id });
    return { id: user.body.id as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }

  it('a role member from when the task opened decides; roles claimed in the update or granted later do not count', async () => {
    const role = `legal-${Math.random().toString(36).slice(2, 8)}`;
    const member = await approver([role]);
    const outsider = await approver([]);
    const key = await h.publish({ steps: [
      { id: 'approve', type: 'approval', title: 'Sign off', assignee: { role }, expireAfter: '1h', onApprove: 'yes' },
      { id: 'yes', type: 'update_contact', addTags: ['signed-off'] },
    ] });
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } });
    const task = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, e.body.id)))[0]);
    const handle = h.client.workflow.getHandle(e.body.workflowId);

    // A caller that claims the role in the update itself is refused by the workflow.
    const forged = await handle.executeUpdate(decideTaskUpdate, {
      args: [{ taskId: task.id, decision: 'approve', values: {}, actor: { userId: outsider.id, roles: [role] } }],
    }).catch((err: unknown) => err);
    expect(forged).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((forged as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
    expect(((forged as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('NotAllowed');

    // Granted the role after the task opened: the API lets the request through, the workflow does not.
    await h.database.db.update(users).set({ roles: [role] }).where(eq(users.id, outsider.id));
    const late = await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: {} }, outsider.auth);
    expect(late.status).toBe(403);
    expect(late.body.error.code).toBe('not_allowed');

    const decided = await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: {} }, member.auth);
    expect(decided.status).toBe(200);
    expect(await h.result(e.body.workflowId)).toMatchObject({ status: 'completed' });
  });
});
