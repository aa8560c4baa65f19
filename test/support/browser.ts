import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium from the system (CHROMIUM_PATH or /usr/bin/chromium). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
}

/**
 * A browser test's set-up: a harness and headless Chromium started before the file's tests and
 * closed after them. Read `h` and `browser` inside tests (they are set by then).
 */
export function browserHarness<H extends { stop(): Promise<void> }>(start: () => Promise<H>): { readonly h: H; readonly browser: Browser } {
  const state = {} as { h: H; browser: Browser };
  beforeAll(async () => {
    state.h = await start();
    state.browser = await launchChromium();
  });
  afterAll(async () => {
    await state.browser?.close();
    await state.h?.stop();
  });
  return state;
}
