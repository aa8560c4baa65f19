import { startHarness, uniqueEmail, type Harness } from '../support/harness';

/**
 * A side effect that no retry can fix (here: a template that cannot render with this contact's
 * data) ends its enrolment `failed`, with the reason in the result, the audit and the stats;
 * it is not retried, and other enrolments go on.
 */
describe('permanent step failures', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('a template that cannot render with the contact\'s data fails the step and ends the enrolment failed, once', async () => {
    const key = await h.publish({
      steps: [
        { id: 'hello', type: 'send_email', subject: 'Your code {{ contact.attributes.ref | url_decode }}', text: 'Hi', next: 'tag' },
        { id: 'tag', type: 'update_contact', addTags: ['greeted'] },
      ],
    });
    const enrol = async (ref: string) => {
      const r = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('tpl'), attributes: { ref } } });
      expect(r.status).toBe(201);
      return r.body as { id: string; workflowId: string; contactId: string };
    };
    const broken = await enrol('%E0%A4%A'); // not valid percent-encoding: url_decode throws
    const fine = await enrol('A%20B');

    expect(await h.result(fine.workflowId)).toMatchObject({ status: 'completed' });
    const result = await h.result(broken.workflowId);
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.reason).toMatch(/^step "hello" failed: the template cannot render: URI malformed/);
    expect(result.path.map((p: { stepId: string; outcome: string }) => `${p.stepId}:${p.outcome}`)).toEqual(['hello:failed']);

    // Recorded: the step's failure with its code, then the enrolment's end; the next step never ran.
    const audit = await h.api('GET', `/v1/audit?enrolmentId=${broken.id}`);
    const actions = audit.body.records.map((r: { action: string }) => r.action);
    expect(actions).toEqual(['enrolment.started', 'step.failed', 'enrolment.failed']);
    expect(audit.body.records[1]).toMatchObject({ stepId: 'hello', outcome: 'failed', details: { code: 'template_failed' } });
    expect((await h.api('GET', `/v1/contacts/${broken.contactId}`)).body.tags).toEqual([]);
    expect((await h.api('GET', `/v1/enrolments/${broken.id}`)).body.status).toBe('failed');

    // Not retried: the activity failed once, non-retryable.
    const history = await h.client.workflow.getHandle(broken.workflowId).fetchHistory();
    const failures = history.events!.filter((e) => e.activityTaskFailedEventAttributes);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.activityTaskFailedEventAttributes!.failure!.cause?.applicationFailureInfo?.type ?? failures[0]!.activityTaskFailedEventAttributes!.failure!.applicationFailureInfo?.type)
      .toBe('PermanentStepFailure');

    const stats = await h.api('GET', `/v1/journeys/${key}/stats`);
    expect(stats.body.versions[0]).toMatchObject({ failed: 1, completed: 1 });
    expect(h.smtp.messages.filter((m) => m.parsed.subject === 'Your code A B')).toHaveLength(1);
  });
});
