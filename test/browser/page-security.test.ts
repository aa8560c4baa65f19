import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHarness, type Harness } from '../support/harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The pages' Content-Security-Policy as a browser enforces it: styles still apply, /docs still works. */
describe('Content-Security-Policy in headless Chromium', () => {
  let h: Harness;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
    h = await startHarness({ worker: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  /** Console errors, where Chromium reports what the policy refused. */
  const refusals = (page: Page) => {
    const errors: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) errors.push(message.text()); });
    return errors;
  };

  it('applies the pages\' own stylesheet (by its hash) and refuses nothing they need', async () => {
    const key = await h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] });
    const context = await browser.newContext({ httpCredentials: { username: 'nurture', password: h.keys.service } });
    const page = await context.newPage();
    const refused = refusals(page);
    await page.goto(`${h.baseUrl}/unsubscribe/not-a-valid-token`);
    await page.getByRole('heading', { name: 'This link is not valid' }).waitFor();
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('576px');
    await page.goto(`${h.baseUrl}/journeys/${key}`);
    await page.getByRole('heading', { name: 'Funnel' }).waitFor();
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('960px');
    // An injected inline style (as markup smuggled into a page would be) is refused.
    await page.evaluate("document.head.appendChild(Object.assign(document.createElement('style'), { textContent: 'body { max-width: 1px }' }))");
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('960px');
    expect(refused.length).toBe(1);
    await context.close();
  });

  it('still runs Swagger UI at /docs under its own policy', async () => {
    const page = await browser.newPage();
    const refused = refusals(page);
    await page.goto(`${h.baseUrl}/docs/`);
    await page.getByText('Nurture API').first().waitFor();
    await page.locator('.opblock').first().waitFor();
    expect(refused).toEqual([]);
    await page.close();
  });
});
