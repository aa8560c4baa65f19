import { existsSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { chromium, type Browser } from 'playwright-core';
import { tasks } from '../../db/schema';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** An approver in a real browser: opens the emailed link, fills the form, submits. */
describe('approval form in headless Chromium', () => {
  let h: Harness;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    h = await startHarness();
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('opens the emailed link, fills the form, approves, and the journey takes the approved path', async () => {
    const approver = await h.api('POST', '/v1/users', { email: uniqueEmail('browser'), name: 'Bea Browser' });
    const key = await h.publish({ steps: [
      {
        id: 'review', type: 'approval', title: 'Approve a trial extension for {{ contact.company }}',
        description: 'They asked for two more weeks.', assignee: { user: approver.body.email }, expireAfter: '1h',
        fields: [
          { name: 'days', label: 'Extra days', type: 'number', required: true, min: 1, max: 30 },
          { name: 'plan', label: 'Plan', type: 'select', options: ['starter', 'growth'], required: true },
          { name: 'callBooked', label: 'Call booked', type: 'checkbox' },
          { name: 'until', label: 'Until', type: 'date' },
          { name: 'reason', label: 'Reason', type: 'long_text', required: true },
        ],
        onApprove: 'extended', onReject: 'declined',
      },
      { id: 'extended', type: 'send_email', subject: 'Your trial is extended by {{ approval.review.values.days }} days', text: 'Enjoy.' },
      { id: 'declined', type: 'update_contact', addTags: ['declined'] },
    ] });
    const customer = uniqueEmail('customer');
    const enrolment = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: customer, company: 'Globex' } });
    const task = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolment.body.id)))[0]);
    const mail = await eventually(async () => h.smtp.to(approver.body.email).find((m) => String(m.parsed.text).includes(task.id)));
    const link = /(http\S+\/tasks\/\S+)/.exec(String(mail.parsed.text))![1]!;

    const page = await browser.newPage();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Approve a trial extension for Globex' }).waitFor();
    // Submitting without the required fields shows errors tied to the fields.
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Extra days is required').first().waitFor();
    expect(await page.getByLabel('Extra days').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Extra days').fill('14');
    await page.getByLabel('Plan').selectOption('growth');
    await page.getByLabel('Call booked').check();
    await page.getByLabel('Until').fill('2026-12-31');
    await page.getByLabel('Reason').fill('Evaluating with a second team');
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR ?? '/tmp'}/nurture-approval-form.png`, fullPage: true });
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Thank you: approved' }).waitFor();

    const result = await h.result(enrolment.body.workflowId);
    expect(result.path.map((p: { stepId: string; outcome: string }) => `${p.stepId}:${p.outcome}`)).toEqual(['review:approved', 'extended:sent']);
    expect(h.smtp.to(customer).map((m) => m.parsed.subject)).toEqual(['Your trial is extended by 14 days']);
    const decided = await h.api('GET', `/v1/tasks/${task.id}`);
    expect(decided.body).toMatchObject({ status: 'approved', values: { days: 14, plan: 'growth', callBooked: true, until: '2026-12-31', reason: 'Evaluating with a second team' } });

    // The link works once.
    await page.goto(link);
    await page.getByRole('heading', { name: 'This link was already used' }).waitFor();
  });
});
