import { readFile } from 'node:fs/promises';
import { browserHarness } from '../support/browser';
import { startHarness, uniqueEmail } from '../support/harness';

/** The results page in a real browser, with a screenshot to look at. */
describe('journey results page in headless Chromium', () => {
  const env = browserHarness(startHarness);

  it('renders the funnel and the graph with the right numbers', async () => {
    const { h, browser } = env;
    const key = await h.publish({ steps: [
      { id: 'welcome', type: 'send_email', subject: 'Hi', text: 'x', next: 'score' },
      { id: 'score', type: 'branch', cases: [{ condition: { tag: 'vip' }, next: 'vip' }], default: 'regular' },
      { id: 'vip', type: 'update_contact', addTags: ['seen'] },
      { id: 'regular', type: 'update_contact', addTags: ['seen'] },
    ] });
    const runs = await Promise.all(['vip', 'vip', '', ''].map((tag) =>
      h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('page'), tags: tag ? [tag] : [] } })));
    await Promise.all(runs.map((r) => h.result(r.body.workflowId)));

    const context = await browser.newContext({ acceptDownloads: true, httpCredentials: { username: 'nurture', password: h.keys.service } });
    const page = await context.newPage();
    await page.goto(`${h.baseUrl}/journeys/${key}`);
    await page.getByRole('heading', { name: 'Funnel' }).waitFor();
    expect(await page.locator('#stat-entered').textContent()).toBe('4');
    expect(await page.locator('#stat-completed').textContent()).toBe('4');
    expect(await page.locator('[data-step="vip"] .count').textContent()).toBe('2');
    expect(await page.locator('[data-step="regular"] .count').textContent()).toBe('2');
    expect(await page.getByRole('img', { name: 'Journey graph' }).isVisible()).toBe(true);
    // The steps table: per-step drop-off (the branch sends everyone on; the last steps end the journey).
    expect(await page.locator('[data-step-row="score"] .c0').textContent()).toBe('4');
    expect(await page.locator('[data-step-row="score"] .c2').textContent()).toBe('0 (0.0%)');
    expect(await page.locator('[data-step-row="vip"] .c1').textContent()).toBe('2');
    expect(await page.locator('[data-step-row="welcome"] .c6').textContent()).toBe('4 / 0 / 0 / 0');
    // The CSV link downloads the same figures with the page's credentials.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Download the results/ }).click()]);
    expect(download.suggestedFilename()).toBe(`${key}-results.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.split('\r\n')).toEqual(expect.arrayContaining(['version,step,variant,metric,reason,value', '1,vip,,entered,,2', '1,welcome,,emails_sent,,4']));
    const shot = await page.screenshot({ path: `${process.env.SCREENSHOT_DIR ?? '/tmp'}/nurture-results.png`, fullPage: true });
    expect(shot.length).toBeGreaterThan(10_000);
    await context.close();
  });
});
