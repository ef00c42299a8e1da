/**
 * The dashboard in a real browser: Debian's chromium (/usr/bin/chromium, installed by .ci/run)
 * driven by playwright-core. One browser per test file; a fresh context (its own sessionStorage)
 * per test.
 *
 * Usage:
 *   const skip = browserMissing();                 // false, or why the file skips
 *   describe('...', { skip }, () => {
 *     let browser: Browser;
 *     before(async () => { browser = await launchBrowser(); });   // builds web/dist when stale
 *     after(() => browser.close());
 *     it('...', async () => {
 *       const page = await openDashboard(browser, stack.gw.url, key);   // signed in
 *       await shoot(page, 'activity');                                  // desktop + phone PNGs
 *     });
 *   });
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { buildWeb, webIsStale } from '../../scripts/build-web.ts';
import { REQUIRE_SERVICES } from './services.ts';

export type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.FREEWAY_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where screenshots go (gitignored): test artefacts, one PNG per page and width. */
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', '.tmp', 'screenshots');

export const VIEWPORTS = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844 },
} as const;

/** false when chromium is there; otherwise the reason to skip (or a thrown error under FREEWAY_TEST_REQUIRE_SERVICES=1). */
export function browserMissing(): false | string {
  if (existsSync(CHROMIUM)) return false;
  const why = `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does it)`;
  if (REQUIRE_SERVICES) throw new Error(why);
  return why;
}

export async function launchBrowser(): Promise<Browser> {
  if (webIsStale()) await buildWeb();
  return chromium.launch({
    executablePath: CHROMIUM,
    // Containers run as root without user namespaces; /dev/shm is often tiny.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** A new page at `gatewayUrl`, signed in with `key` when given (through the sign-in form, as a person would). */
export async function openDashboard(
  browser: Browser,
  gatewayUrl: string,
  key?: string,
  viewport: { width: number; height: number } = VIEWPORTS.desktop,
  opts: { enforceCsp?: boolean } = {},
): Promise<Page> {
  // The page's Content-Security-Policy forbids eval, which string predicates of page.waitForFunction
  // need, so tests bypass it by default; activity.test.ts opens every page under it (enforceCsp).
  const context = await browser.newContext({ viewport, baseURL: gatewayUrl, bypassCSP: opts.enforceCsp !== true });
  const page = await context.newPage();
  // A page error is a failed test, not a log line nobody reads.
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  // Console errors too (a CSP violation is one), except the browser's note of an API answer's non-2xx status.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(new Error(`console: ${m.text()}`));
  });
  ERRORS.set(page, errors);
  await page.goto('/');
  if (key !== undefined) await signIn(page, key);
  return page;
}

export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('Freeway key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').waitFor();
}

/** Errors thrown in the page, and console errors, since openDashboard. */
export function pageErrors(page: Page): Error[] {
  return ERRORS.get(page) ?? [];
}

const ERRORS = new WeakMap<Page, Error[]>();

/** PNGs of the page as it is now at desktop and phone widths: .tmp/screenshots/<name>-desktop.png, -phone.png. */
export async function shoot(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize();
  const paths: string[] = [];
  for (const [label, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    // Let charts follow the resize (they redraw on the next frame).
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    const path = join(SCREENSHOTS, `${name}-${label}.png`);
    await page.screenshot({ path, fullPage: true });
    paths.push(path);
  }
  if (before) await page.setViewportSize(before);
  return paths;
}
