/**
 * The dashboard's sign-in and Activity page in a real browser (chromium) against a real Freeway
 * and the three provider emulators: the totals, the table and the CSV show the numbers the
 * requests produced (their own `usage` answers), for an inference key, a management key and the admin.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { browserMissing, launchBrowser, openDashboard, pageErrors, shoot, signIn } from '../helpers/browser.ts';
import type { Browser } from '../helpers/browser.ts';
import { ADMIN_KEY, LISTED, MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const skip = browserMissing();

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
}

describe('dashboard: sign-in and Activity', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  const keys = { a: '', b: '', mgmt: '' };
  /** Per key and model: what the answers said they used. */
  const spent: Array<{ key: 'a' | 'b'; model: string; usage: Usage }> = [];

  async function api(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${stack.baseURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // any: answers are asserted on field by field
    return { status: res.status, json: (await res.json()) as any };
  }

  const nanos = (usd: number) => Math.round(usd * 1e9);
  const usd = (list: typeof spent) => list.reduce((n, s) => n + nanos(s.usage.cost), 0) / 1e9;
  const dollars = (v: number) => `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 9 })}`;

  before(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
    assert.equal((await api('POST', '/accounts', ADMIN_KEY, { id: 'acme', name: 'Acme', prepaid: false })).status, 201);
    const key = async (name: string, kind = 'inference') =>
      (await api('POST', '/keys', ADMIN_KEY, { name, account: 'acme', kind })).json.key as string;
    keys.a = await key('writer-key');
    keys.b = await key('reader-key');
    keys.mgmt = await key('acme-ops', 'management');
    const plan: Array<['a' | 'b', string, string]> = [
      ['a', MODELS.openai, 'Writer'],
      ['a', MODELS.openai, 'Writer'],
      ['a', MODELS.anthropic, 'Writer'],
      ['b', MODELS.google, 'Reader'],
      ['b', MODELS.openai, 'Reader'],
    ];
    for (const [k, model, app] of plan) {
      const body = {
        model,
        max_tokens: 30,
        messages: [{ role: 'user', content: `tell me about ${model} for ${k}` }],
        usage: { include: true },
      };
      const r = await api('POST', '/chat/completions', keys[k], body, { 'X-Title': app });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.ok(r.json.usage.cost > 0, 'the emulated models are priced');
      spent.push({ key: k, model, usage: r.json.usage });
    }
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('the gateway serves the app to browsers and keeps / and the API for everyone else', async () => {
    const html = await fetch(`${stack.gw.url}/keys`, { headers: { accept: 'text/html' } });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    const body = await html.text();
    const asset = /src="(\/assets\/main-[\w]+\.js)"/.exec(body)?.[1];
    assert.ok(asset, body);
    const js = await fetch(`${stack.gw.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    // Health on / for anything that is not a browser page load.
    const health = await fetch(`${stack.gw.url}/`);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    // The API's own 404, not the app, under /api even for a browser.
    const missing = await fetch(`${stack.gw.url}/api/v1/nope`, { headers: { accept: 'text/html' } });
    assert.equal(missing.status, 404);
    assert.equal((await fetch(`${stack.gw.url}/assets/nope.js`)).status, 404);
    assert.equal((await fetch(`${stack.gw.url}/assets/..%2f..%2fpackage.json`)).status, 404);
  });

  test('a wrong key is refused with a message; the key is kept in this tab only', async () => {
    const page = await openDashboard(browser, stack.gw.url);
    await page.getByLabel('Freeway key').fill('sk-not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not know this key' }).waitFor();
    await shoot(page, 'sign-in');
    await signIn(page, keys.a);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('freeway.key')), keys.a);
    // A reload stays signed in; a new tab (context) does not.
    await page.reload();
    await page.getByRole('navigation').waitFor();
    const other = await openDashboard(browser, stack.gw.url);
    await other.getByLabel('Freeway key').waitFor();
    await other.context().close();
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();
  });

  test('keyboard only: sign in with Enter, Tab to a page link, Enter opens it and focus moves to the page', async () => {
    const page = await openDashboard(browser, stack.gw.url);
    await page.getByLabel('Freeway key').focus();
    await page.keyboard.type(keys.mgmt);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation').waitFor();
    // Skip link, brand, then the pages in order: Activity, Keys.
    const focused = async () => page.evaluate('document.activeElement?.textContent?.trim()');
    for (let i = 0; i < 10 && (await focused()) !== 'Keys'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Keys');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    assert.equal(outline, 'solid', 'the focused link is visibly outlined');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/keys');
    await page.waitForFunction('document.activeElement?.id === "main"');
    // Back goes back.
    await page.goBack();
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();
  });

  test("every page in the navigation opens under the page's real Content-Security-Policy without an error", async () => {
    for (const key of [keys.a, keys.mgmt, ADMIN_KEY]) {
      const page = await openDashboard(browser, stack.gw.url, key, undefined, { enforceCsp: true });
      const links = page.getByRole('navigation', { name: 'Pages' }).getByRole('link');
      const names = await links.allTextContents();
      assert.ok(names.includes('Activity') && names.includes('Credits'), names.join());
      for (const name of names) {
        await links.filter({ hasText: name }).click();
        await page.waitForURL((u) => u.pathname !== '/');
        await page.waitForLoadState('networkidle');
        assert.equal(await page.getByText('No such page.').count(), 0, name);
      }
      assert.deepEqual(
        pageErrors(page),
        [],
        `with the ${key === ADMIN_KEY ? 'admin' : key === keys.mgmt ? 'management' : 'inference'} key`,
      );
      await page.context().close();
    }
  });

  test('an inference key sees its own spend, tokens and requests, by model, and no management pages', async () => {
    const page = await openDashboard(browser, stack.gw.url, keys.a);
    const mine = spent.filter((s) => s.key === 'a');
    await page
      .locator('[data-total="requests"] dd')
      .filter({ hasText: String(mine.length) })
      .waitFor();
    assert.equal(await page.locator('[data-total="spend"] dd').textContent(), dollars(usd(mine)));
    const prompt = mine.reduce((n, s) => n + s.usage.prompt_tokens, 0);
    const completion = mine.reduce((n, s) => n + s.usage.completion_tokens, 0);
    assert.equal(await page.locator('[data-total="prompt"] dd').textContent(), prompt.toLocaleString('en-US'));
    assert.equal(await page.locator('[data-total="completion"] dd').textContent(), completion.toLocaleString('en-US'));
    // The table: one row per model this key used, with its own request count.
    const rows = page.locator('.table-wrap tbody tr');
    assert.equal(await rows.count(), 2);
    const openaiRow = rows.filter({ hasText: LISTED.openai });
    assert.equal(await openaiRow.locator('td').nth(1).textContent(), '2');
    assert.equal(await rows.filter({ hasText: LISTED.anthropic }).locator('td').nth(1).textContent(), '1');
    assert.ok(await page.locator('.chart-box canvas').count(), 'the chart is drawn');
    // Keys and Credits management are not this key's.
    const nav = page.getByRole('navigation');
    assert.equal(await nav.getByRole('link', { name: 'Keys' }).count(), 0);
    await shoot(page, 'activity-inference');
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();
  });

  test('a management key sees its account by key and by app, exports the CSV, and switches to 24 h by the hour', async () => {
    const page = await openDashboard(browser, stack.gw.url, keys.mgmt);
    await page
      .locator('[data-total="requests"] dd')
      .filter({ hasText: String(spent.length) })
      .waitFor();
    assert.equal(await page.locator('[data-total="spend"] dd').textContent(), dollars(usd(spent)));
    await page.getByLabel('Group by').selectOption('key');
    const rows = page.locator('.table-wrap tbody tr');
    await rows.filter({ hasText: 'reader-key' }).waitFor();
    assert.equal(await rows.filter({ hasText: 'writer-key' }).locator('td').nth(1).textContent(), '3');
    assert.equal(
      await rows.filter({ hasText: 'reader-key' }).locator('td').last().textContent(),
      dollars(usd(spent.filter((s) => s.key === 'b'))),
    );
    await page.getByLabel('Group by').selectOption('app');
    await rows.filter({ hasText: 'Reader' }).waitFor();
    assert.equal(await rows.filter({ hasText: 'Writer' }).locator('td').nth(1).textContent(), '3');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n');
    assert.equal(csv[0], 'bucket,app,requests,prompt_tokens,completion_tokens,cached_tokens,reasoning_tokens,usage_usd');
    const lines = csv.slice(1).map((l) => l.split(','));
    assert.equal(
      lines.reduce((n, l) => n + Number(l[2]), 0),
      spent.length,
    );
    assert.equal(
      lines.reduce((n, l) => n + nanos(Number(l[7])), 0),
      nanos(usd(spent)),
    );

    await page.getByRole('button', { name: '24 h' }).click();
    await page.getByRole('button', { name: '24 h', pressed: true }).waitFor();
    await page
      .locator('[data-total="requests"] dd')
      .filter({ hasText: String(spent.length) })
      .waitFor();
    await shoot(page, 'activity');
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();
  });

  test('the admin key views any account through the account picker', async () => {
    const page = await openDashboard(browser, stack.gw.url, ADMIN_KEY);
    // The default account has had no requests: the empty state says how to make one.
    await page.getByText('No requests in this range yet').waitFor();
    await page.getByLabel('Account', { exact: true }).selectOption('acme');
    await page
      .locator('[data-total="requests"] dd')
      .filter({ hasText: String(spent.length) })
      .waitFor();
    await page.getByLabel('Group by').selectOption('provider');
    await page.locator('.table-wrap tbody tr').nth(2).waitFor();
    assert.equal(await page.locator('.table-wrap tbody tr').count(), 3, 'three providers served the requests');
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();
  });
});
