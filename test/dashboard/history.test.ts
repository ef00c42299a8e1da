/**
 * Activity over weeks of history: generation records spread over the last 10 days (written to the
 * store as the gateway writes them), read back through the dashboard. Each day's bar is checked
 * through the CSV export, and a custom two-day range's totals against the records of those days.
 * The 7-day screenshot is the README's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { hashKey } from '../../src/accounting/keys.ts';
import type { GenerationRecord } from '../../src/store/types.ts';
import { browserMissing, launchBrowser, openDashboard, pageErrors, shoot } from '../helpers/browser.ts';
import type { Browser } from '../helpers/browser.ts';
import { LISTED, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const skip = browserMissing();
const DAY = 86_400_000;

const MODELS: Array<[string, string, number, number]> = [
  // model, provider, nanos per prompt token, nanos per completion token
  [LISTED.openai, 'openai', 150, 600],
  [LISTED.anthropic, 'anthropic', 3000, 15000],
  [LISTED.google, 'google', 300, 2500],
];

function record(i: number, at: Date, keyHash: string, m: (typeof MODELS)[number]): GenerationRecord {
  const [model, provider, pp, cp] = m;
  const prompt = 200 + ((i * 37) % 900);
  const completion = 50 + ((i * 53) % 400);
  const cost = prompt * pp + completion * cp;
  return {
    id: `gen-hist-${i}`,
    keyHash,
    accountId: 'default',
    model,
    providerId: provider,
    providerName: provider,
    upstreamModel: model.split('/')[1],
    upstreamId: null,
    apiType: 'completions',
    streamed: i % 2 === 0,
    cancelled: false,
    finishReason: 'stop',
    nativeFinishReason: 'stop',
    tokensPrompt: prompt,
    tokensCompletion: completion,
    tokensCached: i % 3 === 0 ? 128 : 0,
    tokensCacheWrite: 0,
    tokensReasoning: i % 4 === 0 ? 32 : 0,
    usageEstimated: false,
    costNanos: cost,
    promptCostNanos: prompt * pp,
    completionCostNanos: completion * cp,
    upstreamCostNanos: cost,
    feeNanos: 0,
    latencyMs: 400 + (i % 7) * 90,
    ttftMs: 120,
    generationMs: 300,
    error: null,
    createdAt: at.toISOString(),
    legs: [],
    appTitle: i % 2 ? 'Writer' : 'Support bot',
  };
}

describe('dashboard: Activity over ten days of history', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  const records: GenerationRecord[] = [];

  before(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
    const keyHash = hashKey(stack.key);
    const today = Math.floor(Date.now() / DAY) * DAY;
    let i = 0;
    for (let d = 9; d >= 0; d--) {
      // More traffic on some days than others, and not every model every day.
      const count = 3 + ((d * 5) % 7);
      for (let n = 0; n < count; n++, i++) {
        const at = new Date(Math.min(today - d * DAY + (n + 1) * 3_600_000, Date.now() - 1000));
        records.push(record(i, at, keyHash, MODELS[(n + d) % (d % 3 === 0 ? 2 : 3)]));
      }
    }
    await stack.gw.app.store.insertGenerations(records);
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const day = (r: GenerationRecord) => r.createdAt.slice(0, 10);

  test('each day of the last 7 as the records have it, and a custom range of two days', async () => {
    const page = await openDashboard(browser, stack.gw.url, stack.key);
    const week = records.filter((r) => Date.parse(r.createdAt) >= Math.floor(Date.now() / DAY) * DAY - 6 * DAY);
    await page
      .locator('[data-total="requests"] dd')
      .filter({ hasText: String(week.length) })
      .waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const rows = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(','));
    const byDay = new Map<string, { requests: number; nanos: number }>();
    for (const r of rows) {
      const d = byDay.get(r[0]) ?? { requests: 0, nanos: 0 };
      d.requests += Number(r[2]);
      d.nanos += Math.round(Number(r[7]) * 1e9);
      byDay.set(r[0], d);
    }
    const expected = new Map<string, { requests: number; nanos: number }>();
    for (const r of week) {
      const d = expected.get(day(r)) ?? { requests: 0, nanos: 0 };
      d.requests += 1;
      d.nanos += r.costNanos;
      expected.set(day(r), d);
    }
    assert.deepEqual(Object.fromEntries(byDay), Object.fromEntries(expected));
    await shoot(page, 'activity-week');

    // Custom: the 3rd and 4th days back, inclusive.
    const from = new Date(Math.floor(Date.now() / DAY) * DAY - 4 * DAY).toISOString().slice(0, 10);
    const to = new Date(Math.floor(Date.now() / DAY) * DAY - 3 * DAY).toISOString().slice(0, 10);
    const two = records.filter((r) => day(r) >= from && day(r) <= to);
    await page.getByLabel('From', { exact: true }).fill(from);
    await page.getByLabel('To', { exact: true }).fill(to);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page
      .locator('[data-total="requests"] dd')
      .filter({ hasText: new RegExp(`^${two.length}$`) })
      .waitFor();
    const prompt = two.reduce((n, r) => n + r.tokensPrompt, 0);
    const reasoning = two.reduce((n, r) => n + r.tokensReasoning, 0);
    const cached = two.reduce((n, r) => n + r.tokensCached, 0);
    assert.equal(await page.locator('[data-total="prompt"] dd').textContent(), prompt.toLocaleString('en-US'));
    assert.equal(await page.locator('[data-total="reasoning"] dd').textContent(), reasoning.toLocaleString('en-US'));
    assert.equal(await page.locator('[data-total="cached"] dd').textContent(), cached.toLocaleString('en-US'));
    const nanos = two.reduce((n, r) => n + r.costNanos, 0);
    assert.equal(
      await page.locator('[data-total="spend"] dd').textContent(),
      `$${(nanos / 1e9).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: nanos >= 1e9 ? 4 : 9 })}`,
    );

    // 30 days: all ten days' records.
    await page.getByRole('button', { name: '30 d' }).click();
    await page
      .locator('[data-total="requests"] dd')
      .filter({ hasText: new RegExp(`^${records.length}$`) })
      .waitFor();
    assert.deepEqual(pageErrors(page), []);
    await page.context().close();
  });
});
