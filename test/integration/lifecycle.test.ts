import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { eq, sql } from 'drizzle-orm';
import { auditRecords, enrolments, journeys, outgoingEmails, tasks } from '../../db/schema';
import { getTask } from '../../services/tasks/tasks';
import { JourneyDefinitionSchema } from '../../journey-language';
import { decideTaskUpdate, journeyWorkflow } from '../../workflows/contract';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** Enrolments, tasks and journeys through crashes and time: nothing comes back, nothing stays stuck. */
describe('lifecycle', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  /** Whether Temporal knows a run of this workflow id (open or closed). */
  async function runExists(workflowId: string): Promise<boolean> {
    try {
      await h.client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Removes the run from Temporal, as retention does with a closed one, and waits until it is gone. */
  async function deleteRun(workflowId: string): Promise<void> {
    await h.client.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } });
    // The server deletes a closed run in the background (about half a minute on the dev server).
    await eventually(async () => !(await runExists(workflowId)), 80_000);
  }

  describe('a finished enrolment is never started again', () => {
    it('stays finished after its run left Temporal: the single and bulk routes answer with it and start nothing', async () => {
      const key = await h.publish({
        entry: { reentry: 'once' },
        steps: [{ id: 'hello', type: 'send_email', subject: 'Hi', text: 'Hello {{ contact.email }}', next: 'rest' }, { id: 'rest', type: 'wait', duration: '1s' }],
      });
      const email = uniqueEmail('finished');
      const first = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email } });
      expect(first.status).toBe(201);
      expect((await h.result(first.body.workflowId)).status).toBe('completed');
      await deleteRun(first.body.workflowId);

      const single = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email } });
      expect(single.status).toBe(200);
      expect(single.body).toMatchObject({ id: first.body.id, status: 'completed' });
      const bulk = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items: [{ contactId: first.body.contactId }, { contact: { email } }] });
      expect(bulk.body).toMatchObject({ created: 0, existing: 2, failed: 0 });
      expect(bulk.body.results.map((r: { enrolment: { id: string } }) => r.enrolment.id)).toEqual([first.body.id, first.body.id]);

      expect(await runExists(first.body.workflowId)).toBe(false);
      const rows = await h.database.db.select().from(enrolments).where(eq(enrolments.contactId, first.body.contactId));
      expect(rows.map((r) => r.status)).toEqual(['completed']);
      expect(h.smtp.to(email)).toHaveLength(1);
    });

    it('a running enrolment whose run is missing (a crash between insert and start) gets its run when enrolled again', async () => {
      const key = await h.publish({ steps: [{ id: 'rest', type: 'wait', duration: '1h', next: 'tag' }, { id: 'tag', type: 'update_contact', addTags: ['rested'] }] });
      const [journey] = await h.database.db.select().from(journeys).where(eq(journeys.key, key));
      // Rows as a crashed request leaves them: inserted, running, their runs never started.
      const crashed = await Promise.all(['single', 'bulk'].map(async (name) => {
        const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail(name) });
        const [row] = await h.database.db.insert(enrolments).values({
          journeyId: journey!.id, journeyKey: key, journeyVersion: 1, contactId: contact.body.id, sequence: 1, workflowId: `journey:${key}:${contact.body.id}`,
        }).returning();
        expect(await runExists(row!.workflowId)).toBe(false);
        return row!;
      }));
      const [single, bulk] = crashed as [typeof crashed[0], typeof crashed[0]];

      const again = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: single.contactId });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(single.id);
      const run = await h.client.workflow.getHandle(single.workflowId).describe();
      expect(run.status.name).toBe('RUNNING');

      // In bulk: the missing run starts; the one that runs now is left as it is.
      const both = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items: [{ contactId: single.contactId }, { contactId: bulk.contactId }] });
      expect(both.body).toMatchObject({ created: 0, existing: 2 });
      expect((await h.client.workflow.getHandle(bulk.workflowId).describe()).status.name).toBe('RUNNING');
      expect((await h.client.workflow.getHandle(single.workflowId).describe()).runId).toBe(run.runId);
      await eventually(async () => (await h.api('GET', `/v1/enrolments/${bulk.id}`)).body.currentStep === 'rest');
    });
  });

  describe('approval tasks', () => {
    async function approver(roles: string[]) {
      const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles });
      const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id });
      return { id: user.body.id as string, email: user.body.email as string, roles, auth: { authorization: `Bearer ${key.body.key}` } };
    }
    async function openTask(role: string) {
      const key = await h.publish({ steps: [
        { id: 'approve', type: 'approval', title: 'OK?', assignee: { role }, expireAfter: '1h', onApprove: 'rest', onReject: 'no' },
        { id: 'rest', type: 'wait', duration: '1h' },
        { id: 'no', type: 'exit', reason: 'rejected' },
      ] });
      const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } });
      const task = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, e.body.id)))[0]);
      return { enrolment: e.body, task };
    }
    const claim = (taskId: string, age: string) => h.database.db.update(tasks)
      .set({ status: 'deciding', decidingSince: sql`now() - ${age}::interval` }).where(eq(tasks.id, taskId));

    it('approvers are emailed their link through the ledger without becoming contacts', async () => {
      const ada = await approver([]);
      const key = await h.publish({ steps: [{ id: 'approve', type: 'approval', title: 'OK?', assignee: { user: ada.email }, expireAfter: '1h' }] });
      const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } });
      const mail = await eventually(async () => h.smtp.to(ada.email)[0]);
      expect(mail.parsed.subject).toBe('You have a task to decide: OK?');
      const [task] = await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, e.body.id));
      expect((await h.api('POST', `/v1/tasks/${task!.id}/complete`, { decision: 'approve', values: {} }, ada.auth)).status).toBe(200);
      expect((await h.result(e.body.workflowId)).status).toBe('completed');

      expect((await h.api('GET', `/v1/contacts?email=${encodeURIComponent(ada.email)}`)).body.contacts).toEqual([]);
      const ledger = await h.database.db.select().from(outgoingEmails).where(eq(outgoingEmails.toAddress, ada.email));
      expect(ledger).toEqual([expect.objectContaining({ contactId: null, category: 'transactional', status: 'sent', idempotencyKey: `${task!.idempotencyKey}:created:${ada.id}` })]);
    });

    it('task.created is recorded when a retry finds the task inserted already (a crash between insert and record)', async () => {
      const ada = await approver([]);
      const key = await h.publish({ steps: [
        { id: 'rest', type: 'wait', duration: '3s', next: 'approve' },
        { id: 'approve', type: 'approval', title: 'OK?', assignee: { user: ada.email }, expireAfter: '1h' },
      ] });
      const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } });
      // The row an earlier attempt of the step inserted before it died: same key, no record.
      const [row] = await h.database.db.insert(tasks).values({
        id: randomUUID(), idempotencyKey: `${e.body.workflowId}:approve:1`, enrolmentId: e.body.id, workflowId: e.body.workflowId,
        stepId: 'approve', journeyKey: key, contactId: e.body.contactId, title: 'OK?', assigneeUserId: ada.id,
      }).returning();
      const created = () => h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, e.body.id))
        .then((records) => records.filter((a) => a.action === 'task.created'));
      expect(await created()).toEqual([]);
      await eventually(async () => (await created()).length > 0, 20_000);
      await eventually(async () => h.smtp.to(ada.email).length > 0);
      const records = await created();
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ stepId: 'approve', idempotencyKey: `${row!.idempotencyKey}:task`, details: expect.objectContaining({ taskId: row!.id }) });
      expect(await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, e.body.id))).toHaveLength(1);
    });

    it('a task left deciding by a crash can be decided once its claim is a minute old', async () => {
      const role = uniqueKey('mgr');
      const ada = await approver([role]);
      const { enrolment, task } = await openTask(role);
      await claim(task.id, '1 second');
      // A decision under way (a fresh claim) still wins alone.
      expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: {} }, ada.auth)).status).toBe(409);
      await claim(task.id, '2 minutes');
      const done = await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: {} }, ada.auth);
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ status: 'approved', decidedBy: ada.id });
      await eventually(async () => (await h.api('GET', `/v1/enrolments/${enrolment.id}`)).body.currentStep === 'rest');
    });

    it('a decision re-run after a crash is the same update: the first decision stands, the row is settled', async () => {
      const role = uniqueKey('mgr');
      const [ada, bob] = [await approver([role]), await approver([role])];
      const { enrolment, task } = await openTask(role);
      // Ada's decision reached the journey (the update id is the task id, as the API sends it)…
      await h.client.workflow.getHandle(task.workflowId).executeUpdate(decideTaskUpdate, {
        updateId: task.id, args: [{ taskId: task.id, decision: 'approve', values: {}, actor: { userId: ada.id, roles: ada.roles } }],
      });
      // …and the row still says deciding, as a crash in the middle leaves it.
      await claim(task.id, '2 minutes');
      const late = await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'reject', values: {} }, bob.auth);
      expect(late.status).toBe(409);
      expect(await getTask(h.database.db, task.id)).toMatchObject({ status: 'approved', decision: 'approve', decidedBy: ada.id });
      await eventually(async () => (await h.api('GET', `/v1/enrolments/${enrolment.id}`)).body.currentStep === 'rest');
      const decided = (await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, enrolment.id))).filter((a) => a.action === 'task.decided');
      expect(decided.map((a) => a.outcome)).toEqual(['approved']);
    });
  });

  describe('a loop that does not end', () => {
    it('ends failed once a step is entered more often than allowed, with the reason in the audit', async () => {
      const definition = { steps: [
        { id: 'tick', type: 'update_contact', scoreDelta: 1, next: 'pause' },
        { id: 'pause', type: 'wait', duration: '10ms', next: 'tick' },
      ] };
      const key = await h.publish(definition);
      const [journey] = await h.database.db.select().from(journeys).where(eq(journeys.key, key));
      const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('loop') });
      const [row] = await h.database.db.insert(enrolments).values({
        journeyId: journey!.id, journeyKey: key, journeyVersion: 1, contactId: contact.body.id, sequence: 1, workflowId: `journey:${key}:${contact.body.id}`,
      }).returning();
      // As the API starts it, with the bound lowered from 1,000 to 3.
      const handle = await h.client.workflow.start(journeyWorkflow, {
        workflowId: row!.workflowId, taskQueue: h.taskQueue,
        args: [{ enrolmentId: row!.id, journeyKey: key, journeyVersion: 1, contactId: contact.body.id, definition: JourneyDefinitionSchema.parse(definition), maxStepVisits: 3 }],
      });
      const reason = 'step "tick" was entered 4 times, more than the 3 allowed: a loop that does not end';
      expect(await handle.result()).toMatchObject({ status: 'failed', reason });
      expect((await h.api('GET', `/v1/contacts/${contact.body.id}`)).body.score).toBe(3);
      expect((await h.api('GET', `/v1/enrolments/${row!.id}`)).body.status).toBe('failed');
      const records = await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, row!.id));
      expect(records.find((a) => a.action === 'enrolment.failed')).toMatchObject({ outcome: 'failed', details: expect.objectContaining({ reason }) });
    });
  });

  describe('publishing', () => {
    it("refuses an approval whose assignee or escalation target nobody is, naming the step and field", async () => {
      const key = uniqueKey('approvers');
      const email = uniqueEmail('approver');
      const role = uniqueKey('role');
      const definition = { steps: [
        { id: 'hello', type: 'send_email', subject: 'Hi', text: 'Hello', next: 'approve' },
        { id: 'approve', type: 'approval', title: 'OK?', assignee: { user: email }, escalateAfter: '1h', escalateTo: { role }, expireAfter: '2h' },
      ] };
      expect((await h.api('POST', '/v1/journeys', { key, name: key, definition })).status).toBe(201);
      const refused = await h.api('POST', `/v1/journeys/${key}/publish`);
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('invalid_definition');
      expect(refused.body.error.details.problems).toEqual([
        { path: 'definition.steps[1].assignee', stepId: 'approve', message: `step "approve": assignee: no user has the email "${email}"` },
        { path: 'definition.steps[1].escalateTo', stepId: 'approve', message: `step "approve": escalateTo: no user has the role "${role}"` },
      ]);
      expect((await h.api('GET', `/v1/journeys/${key}`)).body.versions).toEqual([]);

      await h.api('POST', '/v1/users', { email, name: 'Approver', roles: [] });
      const half = await h.api('POST', `/v1/journeys/${key}/publish`);
      expect(half.body.error.details.problems.map((p: { path: string }) => p.path)).toEqual(['definition.steps[1].escalateTo']);
      await h.api('POST', '/v1/users', { email: uniqueEmail('boss'), name: 'Boss', roles: [role] });
      expect((await h.api('POST', `/v1/journeys/${key}/publish`)).status).toBe(201);
    });

    it('refuses a loop that can cycle without sleeping, naming the wait', async () => {
      const key = uniqueKey('spin');
      const definition = { steps: [
        { id: 'hello', type: 'send_email', subject: 'Hi', text: 'Hello', next: 'pause' },
        { id: 'pause', type: 'wait', duration: '0s', next: 'hello' },
      ] };
      await h.api('POST', '/v1/journeys', { key, name: key, definition });
      const refused = await h.api('POST', `/v1/journeys/${key}/publish`);
      expect(refused.status).toBe(422);
      expect(refused.body.error.details.problems).toEqual([expect.objectContaining({ path: 'definition.steps[1].duration', stepId: 'pause' })]);
    });
  });
});
