import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { auditRecords } from '../../db/schema';
import { JourneyDefinitionSchema } from '../../journey-language';
import { journeyEventSignal, journeyWorkflow } from '../../workflows/contract';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

/** A long-running loop continues as new, carrying its state, without repeating a side effect. */
describe('continue-as-new', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('keeps visits, path and idempotency keys across runs', async () => {
    const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('loop') });
    const definition = JourneyDefinitionSchema.parse({
      steps: [
        { id: 'tick', type: 'update_contact', scoreDelta: 1, next: 'listen' },
        { id: 'listen', type: 'wait_for_event', event: 'stop', timeout: '300ms', next: 'done', onTimeout: 'tick' },
        { id: 'done', type: 'exit', reason: 'stopped' },
      ],
    });
    const enrolmentId = randomUUID();
    const workflowId = `journey:loop-test:${contact.body.id}`;
    const handle = await h.client.workflow.start(journeyWorkflow, {
      workflowId, taskQueue: h.taskQueue,
      args: [{ enrolmentId, journeyKey: 'loop-test', journeyVersion: 1, contactId: contact.body.id, definition, historyLimit: 40 }],
    });
    const firstRunId = handle.firstExecutionRunId;
    await eventually(async () => (await h.client.workflow.getHandle(workflowId).describe()).runId !== firstRunId, 30_000);
    await eventually(async () => (await h.api('GET', `/v1/contacts/${contact.body.id}`)).body.score >= 8, 30_000);
    // wait_for_event counts events that arrive while it waits: send until one lands in a wait.
    const latest = () => h.client.workflow.getHandle(workflowId);
    const result = await eventually(async () => {
      if ((await latest().describe()).status.name === 'COMPLETED') return latest().result();
      await latest().signal(journeyEventSignal, { id: randomUUID(), name: 'stop', properties: {}, occurredAt: new Date().toISOString() });
      await new Promise((r) => setTimeout(r, 200));
      return undefined;
    }, 30_000);
    expect(result.status).toBe('exited');

    const ticks = (await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, enrolmentId)))
      .filter((a) => a.stepId === 'tick');
    const keys = ticks.map((a) => a.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain(`${workflowId}:tick:${ticks.length}`);
    expect((await h.api('GET', `/v1/contacts/${contact.body.id}`)).body.score).toBe(ticks.length);
    const runs: string[] = [];
    for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf.runId);
    expect(runs.length).toBeGreaterThan(1);
  });
});
