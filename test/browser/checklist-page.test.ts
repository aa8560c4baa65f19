import { readFile } from 'node:fs/promises';
import { browserHarness } from '../support/browser';
import { eventually, startHarness, uniqueEmail, uniqueKey } from '../support/harness';

/** A process run's checklist page and its printable record in a real browser. */
describe('process checklist page in headless Chromium', () => {
  const env = browserHarness(startHarness);

  it('shows sections, done marks with who and when, overdue and skipped tasks, the verification, and opens the exports', async () => {
    const { h, browser } = env;
    const ada = await h.api('POST', '/v1/users', { email: uniqueEmail('ada'), name: 'Ada <Lovelace>', roles: [] });
    const adaKey = (await h.api('POST', '/v1/api-keys', { name: 'ada', scopes: ['approver'], userId: ada.body.id })).body.key as string;
    const key = uniqueKey('checklist');
    await h.api('POST', '/v1/processes', { key, name: 'Spring launch', definition: {
      inputs: [{ name: 'paid', label: 'Paid', type: 'checkbox' }],
      sections: [
        { title: 'Brief', tasks: [
          { id: 'brief', kind: 'checklist', title: 'Write the brief', assignee: { user: ada.body.email } },
          { id: 'assets', kind: 'checklist', title: 'Assets <ready>', due: { after: '1s' } },
        ] },
        { title: 'Launch', tasks: [
          { id: 'budget', kind: 'checklist', title: 'Confirm the budget', when: { field: 'run.inputs.paid', op: 'eq', value: true } },
          { id: 'go', kind: 'checklist', title: 'Go live', after: ['brief'] },
        ] },
      ],
    } });
    expect((await h.api('POST', `/v1/processes/${key}/publish`)).status).toBe(201);
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, { inputs: { paid: false } })).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.progress.next?.taskId === 'brief');
    expect((await h.api('POST', `${base}/tasks/brief/complete`, { action: 'complete' }, { authorization: `Bearer ${adaKey}` })).status).toBe(200);
    await eventually(async () => (await h.api('GET', base)).body.progress.overdue.includes('assets'));

    // An approver opens the checklist with their key as the Basic password.
    const context = await browser.newContext({ acceptDownloads: true, httpCredentials: { username: 'ada', password: adaKey } });
    const page = await context.newPage();
    const response = await page.goto(`${h.baseUrl}/processes/${key}/runs/${run.id}`);
    expect(response!.status()).toBe(200);
    await page.getByRole('heading', { name: 'Spring launch' }).waitFor();
    expect(await page.getByRole('heading', { level: 2 }).allTextContents()).toEqual(['Brief', 'Launch']);
    expect(await page.locator('#progress').textContent()).toBe('1 of 3');
    expect(await page.locator('#overdue').textContent()).toBe('1');
    const brief = page.locator('[data-task="brief"]');
    expect(await brief.getAttribute('data-status')).toBe('done');
    expect(await brief.locator('.mark').textContent()).toBe('✓');
    expect(await brief.locator('.notes').textContent()).toMatch(new RegExp(`^Done by Ada <Lovelace> <${ada.body.email}> on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`));
    expect(await page.locator('[data-task="assets"] .title').textContent()).toBe('Assets <ready>');
    expect(await page.locator('[data-task="assets"] .overdue').textContent()).toMatch(/^Overdue since /);
    expect(await page.locator('[data-task="budget"]').getAttribute('data-status')).toBe('skipped');
    expect(await page.locator('[data-task="budget"] .notes').textContent()).toBe('Skipped: its condition was false');
    expect(await page.locator('[data-task="go"]').getAttribute('data-status')).toBe('open');
    expect(await page.locator('#verification').getAttribute('data-ok')).toBe('true');
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR ?? '/tmp'}/nurture-checklist.png`, fullPage: true });
    // The exports need a service key: the approver's link is refused.
    const refused = await context.request.get(`${h.baseUrl}/processes/${key}/runs/${run.id}/export?format=html`);
    expect(refused.status()).toBe(403);
    await context.close();

    // A reviewer with a service key downloads the CSV and opens the printable record.
    const reviewer = await browser.newContext({ acceptDownloads: true, httpCredentials: { username: 'reviewer', password: h.keys.service } });
    const page2 = await reviewer.newPage();
    await page2.goto(`${h.baseUrl}/processes/${key}/runs/${run.id}`);
    const [download] = await Promise.all([page2.waitForEvent('download'), page2.getByRole('link', { name: /Download the record as CSV/ }).click()]);
    expect(download.suggestedFilename()).toBe(`${key}-${run.id}.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toContain('task,Brief,brief,Write the brief,done,');
    await page2.getByRole('link', { name: /Printable record/ }).click();
    await page2.getByRole('heading', { name: 'Audit records' }).waitFor();
    const exported = (await h.api('GET', `${base}/export`)).body;
    expect(await page2.locator('#audit tbody tr').count()).toBe(exported.audit.length);
    expect(await page2.locator(`#audit tr[data-seq="1"] code`).textContent()).toBe(exported.audit[0].hash);
    expect(await page2.locator('#verification').getAttribute('data-ok')).toBe('true');
    const shot = await page2.screenshot({ path: `${process.env.SCREENSHOT_DIR ?? '/tmp'}/nurture-run-record.png`, fullPage: true });
    expect(shot.length).toBeGreaterThan(10_000);
    await reviewer.close();
    await h.client.workflow.getHandle(run.workflowId).terminate('test over');
  });
});
