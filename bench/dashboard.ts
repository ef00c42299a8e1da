/**
 * The dashboard's speed against issue 13's targets: interactive in under a second with a year of
 * activity data, and a first load under 250 KB of compressed JavaScript and CSS.
 *
 * A real Freeway (`bin/freeway.js serve`, as bench/run.ts starts it) on SQLite, with a year of
 * generation records written straight through the store (100 a day for 365 days, over several
 * models, providers, keys and apps), opened in Debian's chromium by playwright-core. Times are the
 * page's own clock (performance.now(), whose origin is the navigation's start), read when the
 * Activity page's request total shows the expected count; sizes are the page's resource timing
 * (encodedBodySize: the bytes as sent, gzip included). Each measurement runs `runs` times in fresh
 * browser contexts (cold cache) and reports the median and the worst.
 *
 *   node bench/dashboard.ts [--quick]
 *
 * A benchmark, not a test: it prints a table and says which targets were missed; nothing here runs
 * in `npm test`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb, webIsStale } from '../scripts/build-web.ts';
import { openStore } from '../src/store/open.ts';
import type { GenerationRecord } from '../src/store/types.ts';
import { Child } from './children.ts';
import { ADMIN_KEY, FreewayProcess } from './freeway-process.ts';
import { percentile } from './stats.ts';

const DAY = 86_400_000;
const PER_DAY = 100;
const DAYS = 365;
const CHROMIUM = process.env.FREEWAY_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const INTERACTIVE_TARGET_MS = 1_000;
export const FIRST_LOAD_TARGET_BYTES = 250 * 1024;

const MODELS: Array<[string, string, number, number]> = [
  // model, provider, nanos per prompt token, per completion token
  ['openai/gpt-4o-mini', 'openai', 150, 600],
  ['openai/gpt-4o', 'openai', 2500, 10000],
  ['anthropic/claude-sonnet-4', 'anthropic', 3000, 15000],
  ['google/gemini-2.5-flash', 'google', 300, 2500],
  ['meta-llama/llama-3.3-70b-instruct', 'groq', 590, 790],
];
const APPS = ['Support bot', 'Writer', 'Code review', null];

export interface DashboardResults {
  records: number;
  runs: number;
  /** Navigation start to the 7-day totals, cold cache (ms, one per run). */
  coldWeekMs: number[];
  /** "Apply" of a whole-year custom range to its totals (ms). */
  yearMs: number[];
  /** A reload's navigation start to the 7-day totals, the bundle from the browser's cache (ms). */
  reloadMs: number[];
  /** Compressed JavaScript and CSS of a first load (bytes), and everything the first load fetched. */
  firstLoadJsCssBytes: number;
  firstLoadAllBytes: number;
  /** JavaScript and CSS fetched again on a reload (bytes; 0 when the cache answers). */
  reloadJsCssBytes: number;
  weekShown: string;
  yearShown: string;
}

function record(i: number, at: number, keys: string[]): GenerationRecord {
  const [model, provider, pp, cp] = MODELS[i % MODELS.length];
  const prompt = 200 + ((i * 37) % 1800);
  const completion = 40 + ((i * 53) % 700);
  const cost = prompt * pp + completion * cp;
  return {
    id: `gen-bench-${i}`,
    keyHash: keys[i % keys.length],
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
    tokensReasoning: i % 4 === 0 ? 64 : 0,
    usageEstimated: false,
    costNanos: cost,
    promptCostNanos: prompt * pp,
    completionCostNanos: completion * cp,
    upstreamCostNanos: cost,
    feeNanos: 0,
    latencyMs: 300 + (i % 11) * 80,
    ttftMs: 120 + (i % 5) * 30,
    generationMs: 250,
    error: null,
    createdAt: new Date(at).toISOString(),
    legs: [],
    appTitle: APPS[i % APPS.length],
    user: i % 7 === 0 ? `user-${i % 5}` : null,
  };
}

/** A year of records ending now: PER_DAY on each of the DAYS whole UTC days up to today (today's before now). */
async function seed(databaseUrl: string, keys: string[], now: number): Promise<number> {
  const store = await openStore(databaseUrl);
  const today = Math.floor(now / DAY) * DAY;
  let i = 0;
  try {
    for (let d = DAYS - 1; d >= 0; d--) {
      const start = today - d * DAY;
      const span = d === 0 ? Math.max(1, now - start - 1_000) : DAY;
      const batch: GenerationRecord[] = [];
      for (let n = 0; n < PER_DAY; n++, i++) batch.push(record(i, start + Math.floor(((n + 0.5) * span) / PER_DAY), keys));
      await store.insertGenerations(batch);
    }
  } finally {
    await store.close();
  }
  return i;
}

/**
 * In the page, from its first script on: the key in the session (as the sign-in form leaves it),
 * and the page's clock when the request total first reads `want` (window.__fwTotalsAt).
 */
function watchTotals(key: string, want: string): string {
  return `(() => {
    sessionStorage.setItem('freeway.key', ${JSON.stringify(key)});
    const check = () => {
      const dd = document.querySelector('[data-total="requests"] dd');
      if (dd && dd.textContent === window.__fwWant && window.__fwTotalsAt === undefined) window.__fwTotalsAt = performance.now();
    };
    window.__fwWant = ${JSON.stringify(want)};
    new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
  })();`;
}

async function totalsAt(page: Page): Promise<number> {
  await page.waitForFunction('window.__fwTotalsAt !== undefined', undefined, { timeout: 60_000, polling: 20 });
  return (await page.evaluate('window.__fwTotalsAt')) as number;
}

/** Bytes as sent (encodedBodySize) of what the page fetched since its navigation: JS + CSS, and all. */
async function transferred(page: Page): Promise<{ jsCss: number; all: number }> {
  return (await page.evaluate(`(() => {
    const rs = performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'));
    let jsCss = 0, all = 0;
    for (const r of rs) {
      const bytes = r.transferSize === 0 ? 0 : r.encodedBodySize;
      all += bytes;
      if (/\\.(js|css)(\\?|$)/.test(new URL(r.name).pathname)) jsCss += bytes;
    }
    return { jsCss, all };
  })()`)) as { jsCss: number; all: number };
}

async function freshContext(browser: Browser, url: string, script: string): Promise<BrowserContext> {
  // The page's CSP forbids eval, which the string predicates here need; it does not change timing.
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, baseURL: url, bypassCSP: true });
  await context.addInitScript(script);
  return context;
}

const fmtCount = (n: number) => n.toLocaleString('en-US');

export async function dashboardScenario(opts: { quick: boolean; log?: (s: string) => void }): Promise<DashboardResults> {
  const log = opts.log ?? ((s: string) => console.error(`[dashboard] ${s}`));
  const runs = opts.quick ? 3 : 7;
  if (webIsStale()) await buildWeb();
  const dir = mkdtempSync(join(tmpdir(), 'freeway-bench-dashboard-'));
  const emu = await Child.start<{ url: string; apiKey: string }>('emulator', './emulator-child.ts');
  let fw: FreewayProcess | undefined;
  let browser: Browser | undefined;
  try {
    fw = await FreewayProcess.start({ emulatorUrl: emu.info.url, emulatorKey: emu.info.apiKey, dir, nodeArgs: [] });
    const url = fw.info.url;
    const keys: string[] = [];
    for (const name of ['backend', 'notebook', 'ci']) {
      const res = await fetch(`${url}/api/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      keys.push(((await res.json()) as { data: { hash: string } }).data.hash);
    }
    const now = Date.now();
    const t0 = performance.now();
    const records = await seed(join(dir, 'freeway.db'), keys, now);
    log(`${records} generation records over ${DAYS} days written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const week = fmtCount(7 * PER_DAY);
    const year = fmtCount(records);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
    // Sign in once through the form, as a person does (and to warm Freeway's own caches, not the browser's).
    {
      const context = await browser.newContext({ baseURL: url });
      const page = await context.newPage();
      await page.goto('/');
      await page.getByLabel('Freeway key').fill(ADMIN_KEY);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('[data-total="requests"] dd').waitFor();
      await context.close();
    }

    const r: DashboardResults = {
      records,
      runs,
      coldWeekMs: [],
      yearMs: [],
      reloadMs: [],
      firstLoadJsCssBytes: 0,
      firstLoadAllBytes: 0,
      reloadJsCssBytes: 0,
      weekShown: '',
      yearShown: '',
    };
    const today = new Date(Math.floor(now / DAY) * DAY);
    const firstDay = new Date(today.getTime() - (DAYS - 1) * DAY).toISOString().slice(0, 10);
    for (let i = 0; i < runs; i++) {
      const context = await freshContext(browser, url, watchTotals(ADMIN_KEY, week));
      const page = await context.newPage();
      await page.goto('/');
      r.coldWeekMs.push(await totalsAt(page));
      r.weekShown = (await page.locator('[data-total="requests"] dd').textContent()) ?? '';
      const sizes = await transferred(page);
      r.firstLoadJsCssBytes = Math.max(r.firstLoadJsCssBytes, sizes.jsCss);
      r.firstLoadAllBytes = Math.max(r.firstLoadAllBytes, sizes.all);

      // The whole year as a custom range: Apply to its totals, on the page's clock.
      const picker = page.getByRole('group', { name: 'Time range' });
      await picker.getByLabel('From').fill(firstDay);
      await picker.getByLabel('To').fill(today.toISOString().slice(0, 10));
      const yearMs = (await page.evaluate(`new Promise((resolve) => {
        window.__fwWant = ${JSON.stringify(year)};
        window.__fwTotalsAt = undefined;
        const started = performance.now();
        document.querySelector('form.custom button[type="submit"]').click();
        const poll = () => (window.__fwTotalsAt !== undefined ? resolve(window.__fwTotalsAt - started) : setTimeout(poll, 5));
        poll();
      })`)) as number;
      r.yearMs.push(yearMs);
      r.yearShown = (await page.locator('[data-total="requests"] dd').textContent()) ?? '';

      // A reload: a new navigation (the 7-day range again), the bundle from the browser's cache.
      await page.reload();
      r.reloadMs.push(await totalsAt(page));
      r.reloadJsCssBytes = Math.max(r.reloadJsCssBytes, (await transferred(page)).jsCss);
      await context.close();
      log(
        `run ${i + 1}/${runs}: 7 d ${r.coldWeekMs.at(-1)!.toFixed(0)} ms, year ${yearMs.toFixed(0)} ms, reload ${r.reloadMs.at(-1)!.toFixed(0)} ms`,
      );
    }
    return r;
  } finally {
    await browser?.close();
    await fw?.stop();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DashboardRow {
  metric: string;
  measured: string;
  target: string;
  met?: boolean;
}

export function dashboardRows(r: DashboardResults): { rows: DashboardRow[]; missed: string[] } {
  const med = (xs: number[]) => percentile(xs, 50);
  const worst = (xs: number[]) => Math.max(...xs);
  const ms = (xs: number[]) => `${med(xs).toFixed(0)} ms (worst ${worst(xs).toFixed(0)} ms)`;
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const under = (xs: number[]) => worst(xs) < INTERACTIVE_TARGET_MS;
  const rows: DashboardRow[] = [
    {
      metric: `first load to Activity totals, 7 d (${r.weekShown} requests shown), cold cache`,
      measured: ms(r.coldWeekMs),
      target: '< 1 s',
      met: under(r.coldWeekMs),
    },
    {
      metric: `whole-year custom range (${r.yearShown} requests shown): Apply to totals`,
      measured: ms(r.yearMs),
      target: '< 1 s',
      met: under(r.yearMs),
    },
    { metric: 'reload to Activity totals, 7 d', measured: ms(r.reloadMs), target: '< 1 s', met: under(r.reloadMs) },
    {
      metric: 'first load: compressed JavaScript + CSS',
      measured: kb(r.firstLoadJsCssBytes),
      target: '< 250 KB',
      met: r.firstLoadJsCssBytes < FIRST_LOAD_TARGET_BYTES,
    },
    { metric: 'first load: everything fetched (page, bundle, API answers)', measured: kb(r.firstLoadAllBytes), target: '' },
    { metric: 'reload: JavaScript + CSS fetched again', measured: kb(r.reloadJsCssBytes), target: '' },
  ];
  const missed = rows.filter((x) => x.met === false).map((x) => `${x.metric}: ${x.measured} (target ${x.target})`);
  return { rows, missed };
}

export function renderDashboardTable(rows: readonly DashboardRow[]): string {
  const head = ['metric', 'measured', 'target', 'met?'];
  const cells = rows.map((x) => [x.metric, x.measured, x.target || '—', x.met === undefined ? '—' : x.met ? 'yes' : '**NO**']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

if (import.meta.main) {
  const quick = process.argv.includes('--quick');
  const r = await dashboardScenario({ quick });
  const { rows, missed } = dashboardRows(r);
  console.log(
    `\n## Dashboard${quick ? ' (quick)' : ''}: ${r.records.toLocaleString('en-US')} generation records over ${DAYS} days, SQLite, chromium; median of ${r.runs} runs\n`,
  );
  console.log(renderDashboardTable(rows));
  console.log(
    missed.length === 0 ? '\nAll targets met.' : `\nMISSED ${missed.length} target(s):\n${missed.map((m) => `  - ${m}`).join('\n')}`,
  );
}
