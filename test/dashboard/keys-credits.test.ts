/**
 * The dashboard's Keys and Credits pages in chromium against a real Freeway: what the pages do is
 * checked through the API (and by using the keys they create), not only on screen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { browserMissing, launchBrowser, openDashboard, pageErrors, shoot } from '../helpers/browser.ts';
import type { Browser, Page } from '../helpers/browser.ts';
import { ADMIN_KEY, MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const skip = browserMissing();

describe('dashboard: Keys and Credits', { skip }, () => {
  let stack: Stack;
  let browser: Browser;

  async function api(method: string, path: string, token: string, body?: unknown) {
    const res = await fetch(`${stack.baseURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // any: answers are asserted on field by field
    return { status: res.status, json: (await res.json()) as any };
  }

  const chat = (key: string) =>
    api('POST', '/chat/completions', key, { model: MODELS.openai, max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] });

  before(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
    assert.equal((await api('POST', '/accounts', ADMIN_KEY, { id: 'team', name: 'Team', prepaid: true })).status, 201);
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function adminOn(path: string): Promise<Page> {
    const page = await openDashboard(browser, stack.gw.url, ADMIN_KEY);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByLabel('Account', { exact: true }).selectOption('team');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: path }).click();
    return page;
  }

  test('create a key (secret once, copied), use it, disable and enable it, edit its limit, delete it: the API agrees', async () => {
    const page = await adminOn('Keys');
    await page.getByText('No keys in this account yet.').waitFor();
    await page.getByRole('button', { name: 'Create a key' }).click();
    const form = page.getByRole('form', { name: 'New key' });
    await form.getByLabel('Name').fill('ci-bot');
    await form.getByLabel('Credit limit (USD)').fill('2');
    await form.getByLabel('Limit resets').selectOption('monthly');
    await form.getByLabel('Requests per minute').fill('30');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.locator('[data-secret]').textContent())!;
    assert.match(secret, /^sk-/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied').waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), secret);

    const listed = (await api('GET', '/keys?account=team', ADMIN_KEY)).json.data as any[];
    assert.equal(listed.length, 1);
    const hash = listed[0].hash as string;
    assert.equal(listed[0].name, 'ci-bot');
    assert.equal(listed[0].limit, 2);
    assert.equal(listed[0].limit_reset, 'monthly');
    assert.equal(listed[0].rate_limit.requests_per_minute, 30);
    assert.equal(listed[0].kind, 'inference');
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.locator('[data-secret]').count(), 0, 'the secret is not shown again');

    // The team account is prepaid and empty: top it up (Credits page) so the key can spend.
    assert.equal((await api('POST', '/credits', ADMIN_KEY, { account: 'team', amount: 5 })).status, 201);
    assert.equal((await chat(secret)).status, 200);

    await page.getByRole('button', { name: 'Disable ci-bot' }).click();
    await page.getByRole('button', { name: 'Enable ci-bot' }).waitFor();
    assert.equal((await api('GET', `/keys/${hash}`, ADMIN_KEY)).json.data.disabled, true);
    assert.equal((await chat(secret)).status, 401);
    await page.getByRole('button', { name: 'Enable ci-bot' }).click();
    await page.getByRole('button', { name: 'Disable ci-bot' }).waitFor();
    assert.equal((await chat(secret)).status, 200);

    await page.getByRole('button', { name: 'Edit ci-bot' }).click();
    const edit = page.getByRole('form', { name: 'Edit ci-bot' });
    await edit.getByLabel('Credit limit (USD)').fill('7.5');
    await edit.getByLabel('Tokens per minute').fill('5000');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('meter', { name: /of \$7\.50 used/ }).waitFor();
    const after = (await api('GET', `/keys/${hash}`, ADMIN_KEY)).json.data;
    assert.equal(after.limit, 7.5);
    assert.equal(after.rate_limit.tokens_per_minute, 5000);
    assert.equal(after.rate_limit.requests_per_minute, 30, 'an untouched field is not sent');
    await shoot(page, 'keys');

    await page.getByRole('button', { name: 'Delete ci-bot' }).click();
    await page.getByRole('button', { name: 'Delete ci-bot for good' }).click();
    await page.getByText('No keys in this account yet.').waitFor();
    assert.equal((await api('GET', `/keys/${hash}`, ADMIN_KEY)).status, 404);
    assert.equal((await chat(secret)).status, 401);
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();
  });

  test('a key disabled while it is signed in is signed out at its next call, with the reason', async () => {
    const created = (await api('POST', '/keys', ADMIN_KEY, { name: 'short-lived', account: 'team' })).json;
    const page = await openDashboard(browser, stack.gw.url, created.key);
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    assert.equal((await api('PATCH', `/keys/${created.data.hash}`, ADMIN_KEY, { disabled: true })).status, 200);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Credits' }).click();
    await page.getByRole('status').filter({ hasText: 'Signed out' }).waitFor();
    await page.getByLabel('Freeway key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('freeway.key')), null);
    await page.context().close();
  });

  test('credits: top-up from the page, balance and ledger, an alert that fires; an inference key sees its own limit', async () => {
    const key = (await api('POST', '/keys', ADMIN_KEY, { name: 'spender', account: 'team', limit: 1 })).json.key as string;
    const page = await adminOn('Credits');
    const before = (await api('GET', '/credits?account=team', ADMIN_KEY)).json.data;
    await page
      .locator('[data-total="balance"] dd')
      .filter({ hasText: `$${before.balance.toFixed(2)}` })
      .first()
      .waitFor();

    const form = page.getByRole('form', { name: 'Add credits' });
    await form.getByLabel('Amount (USD)').fill('10');
    await form.getByLabel('Note').fill('invoice 42');
    await form.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('cell', { name: 'invoice 42' }).waitFor();
    const now = (await api('GET', '/credits?account=team', ADMIN_KEY)).json.data;
    assert.equal(Math.round(now.balance * 1e9), Math.round((before.balance + 10) * 1e9));
    const shown = (await page.locator('[data-total="balance"] dd').textContent())!;
    assert.equal(shown, `$${now.balance.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`);

    // An alert a nano-dollar under the balance: the next charge fires it.
    const alertForm = page.getByRole('form', { name: 'New alert' });
    await alertForm.getByLabel('Threshold').fill(((Math.round(now.balance * 1e9) - 1) / 1e9).toFixed(9));
    await alertForm.getByRole('button', { name: 'Create alert' }).click();
    await page.getByText('not yet').waitFor();
    assert.equal((await api('GET', '/alerts?account=team', ADMIN_KEY)).json.data.length, 1);
    assert.equal((await chat(key)).status, 200);
    // The check runs after the charge settles; the page shows what the API says once it has.
    while (!(await api('GET', '/alerts?account=team', ADMIN_KEY)).json.data[0].fired) await new Promise((r) => setTimeout(r, 50));
    await page.reload();
    assert.equal(await page.getByLabel('Account', { exact: true }).inputValue(), 'team', 'the admin stays on the account after a reload');
    await page.getByText(/^fired /).waitFor();
    await shoot(page, 'credits');
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();

    const mine = await openDashboard(browser, stack.gw.url, key);
    await mine.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Credits' }).click();
    const self = (await api('GET', '/key', key)).json.data;
    const used = Math.round((self.limit - self.limit_remaining) * 1e9) / 1e9;
    await mine
      .getByRole('meter', {
        name: `spender: $${used.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 9 })} of $1.00 used`,
      })
      .waitFor();
    // The account-wide management parts are not there for an inference key.
    assert.equal(await mine.getByRole('form', { name: 'Add credits' }).count(), 0);
    assert.equal(await mine.getByRole('heading', { name: 'Ledger' }).count(), 0);
    await shoot(mine, 'credits-inference');
    assert.deepEqual(pageErrors(mine), []);
    await mine.context().close();
  });

  test('credits: the ledger pages with "Load more" through more movements than one page, and filters by kind', async () => {
    assert.equal((await api('POST', '/accounts', ADMIN_KEY, { id: 'busy', name: 'Busy', prepaid: true })).status, 201);
    // 130 movements, one a second (every 10th a refund): more than the page's 100.
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 130; i++) {
      const kind = i % 10 === 9 ? 'refund' : 'topup';
      await stack.gw.app.store.credit({
        id: `mv-${String(i).padStart(3, '0')}`,
        accountId: 'busy',
        kind,
        amountNanos: 1e9,
        now: new Date(t0 + i * 1000),
      });
    }
    const page = await openDashboard(browser, stack.gw.url, ADMIN_KEY);
    await page.getByLabel('Account', { exact: true }).selectOption('busy');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Credits' }).click();
    const ledger = page.getByRole('table', { name: /movements, newest first/ });
    await ledger.getByRole('cell', { name: 'mv-129', exact: true }).waitFor();
    assert.equal(await ledger.locator('tbody tr').count(), 100, 'one page of 100 first');
    assert.equal(await ledger.getByRole('cell', { name: 'mv-029', exact: true }).count(), 0, 'the oldest are not loaded yet');

    await page.getByRole('button', { name: 'Load more movements' }).click();
    await ledger.getByRole('cell', { name: 'mv-000', exact: true }).waitFor();
    const ids = await ledger.locator('tbody tr td:last-child').allTextContents();
    assert.deepEqual(
      ids,
      Array.from({ length: 130 }, (_, i) => `mv-${String(129 - i).padStart(3, '0')}`),
      'all 130, each once, newest first',
    );
    assert.equal(await page.getByRole('button', { name: 'Load more movements' }).count(), 0, 'the last page has no "Load more"');

    await page.getByLabel('Ledger kind').selectOption('refund');
    await ledger.getByRole('cell', { name: 'refund' }).first().waitFor();
    await page.getByRole('table', { name: '13 movements, newest first' }).waitFor();
    assert.deepEqual(
      [...new Set(await ledger.locator('tbody tr td:nth-child(2)').allTextContents())],
      ['refund'],
      'only refunds once filtered',
    );
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();
  });
});
