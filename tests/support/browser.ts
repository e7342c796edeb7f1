import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (bootstrap.sh --tests installs it); playwright-core drives it and downloads none of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium as these machines allow it: no sandbox (root), and none of the background
 * connections a closed network refuses (updates, sync, component downloads).
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records what went wrong in it: console errors, uncaught exceptions, failed requests. */
export async function watchedPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`));
  page.on('requestfailed', (request) => {
    // The event stream is cut when the server closes: that is the end of the demo, not a fault of the page.
    if (!request.url().endsWith('/events')) problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  return { page, problems };
}
