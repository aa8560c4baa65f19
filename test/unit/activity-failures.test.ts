import { ApplicationFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import { activityFailures, FLAG_AFTER_ATTEMPTS } from '../../runtime/activity-failures';
import { conflict, DomainError, notFound, PermanentError } from '../../services/lib/errors';
import { metrics } from '../../services/lib/metrics';
import { renderTemplate } from '../../services/lib/templates';

/** The worker's failure policy, on the interceptor itself (the integration test runs it for real). */
describe('activity failures', () => {
  const warnings: unknown[] = [];
  const context = (attempt: number) => ({
    info: { attempt, activityType: 'notify', workflowExecution: { workflowId: 'wf-1', runId: 'r' } },
    log: { warn: (...args: unknown[]) => warnings.push(args) },
  }) as unknown as Context;
  const run = (attempt: number, error: unknown) =>
    activityFailures(context(attempt)).inbound!.execute!({ args: [], headers: {} }, async () => { throw error; });

  it.each([
    ['a PermanentError', new PermanentError('contact_not_found', 'gone')],
    ['a 404 domain error', notFound('contact', 'id', 'x')],
    ['a 422 domain error', new DomainError(422, 'invalid', 'bad')],
  ])('%s becomes a non-retryable PermanentStepFailure with its code', async (_, error) => {
    const failure = await run(1, error).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'PermanentStepFailure', nonRetryable: true, details: [{ code: (error as { code: string }).code }] });
  });

  it.each([
    ['a network error', new Error('ECONNRESET')],
    ['a 409 conflict', conflict('enrolment_conflict', 'retry')],
  ])('%s stays retryable and is passed through as it is', async (_, error) => {
    await expect(run(1, error)).rejects.toBe(error);
  });

  it(`flags a transient failure from attempt ${FLAG_AFTER_ATTEMPTS} on, in the log and a metric`, async () => {
    const before = (await metrics.activityRetriesFlagged.get()).values.find((v) => v.labels.activity === 'notify')?.value ?? 0;
    warnings.length = 0;
    await run(FLAG_AFTER_ATTEMPTS - 1, new Error('down')).catch(() => undefined);
    expect(warnings).toHaveLength(0);
    await run(FLAG_AFTER_ATTEMPTS, new Error('down')).catch(() => undefined);
    expect(warnings).toHaveLength(1);
    const after = (await metrics.activityRetriesFlagged.get()).values.find((v) => v.labels.activity === 'notify')?.value ?? 0;
    expect(after - before).toBe(1);
  });

  it('a template that fails on its data is a permanent error', async () => {
    await expect(renderTemplate('{{ v | url_decode }}', { v: '%E0%A4%A' })).rejects.toMatchObject({ name: 'PermanentError', code: 'template_failed' });
    await expect(renderTemplate('{{ v | url_decode }}', { v: 'a%20b' })).resolves.toBe('a b');
  });
});
