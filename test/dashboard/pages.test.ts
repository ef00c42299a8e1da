/**
 * The dashboard's Models, Generations and Compare pages in a real browser (Debian's chromium)
 * against a real gateway and the three emulators: what each page shows is checked against what
 * the API says, and each page is photographed at desktop and phone widths (.tmp/screenshots).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { browserMissing, launchBrowser, openDashboard, pageErrors, shoot } from '../helpers/browser.ts';
import type { Browser, Page } from '../helpers/browser.ts';
import { ADMIN_KEY, LISTED, MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const YAML = `
billing:
  markupPercent: 10
models:
  test/continuable:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        pricing: { prompt: "0.0000001", completion: "0.0000001" }
      - provider: anthropic
        model: claude-haiku-4-5
        pricing: { prompt: "0.000001", completion: "0.000005" }
  test/free-flash:
    endpoints:
      - provider: google
        model: gemini-2.5-flash
        free: true
        quantization: fp8
`;

const skip = browserMissing();

/** The page's way of writing an amount: USD to the nano-dollar, no trailing zeros. */
const usd = (v: number) => `$${v.toFixed(9).replace(/0+$/, '').replace(/\.$/, '')}`;

interface GenerationView {
  id: string;
  model: string;
  total_cost: number;
  tokens_prompt: number;
  tokens_completion: number;
  cost_details: { freeway_fee: number; upstream_inference_cost: number };
  provider_responses: Array<{ provider_name: string }>;
}

describe('dashboard pages: Models, Generations, Compare', { skip }, () => {
  let stack: Stack;
  let browser: Browser;

  const api = async <T>(path: string, key = stack.key, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${stack.baseURL}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  const generation = async (id: string) => (await api<{ data: GenerationView }>(`/generation?id=${id}`)).data;
  const open = async (path: string): Promise<Page> => {
    const page = await openDashboard(browser, stack.gw.url, stack.key);
    await page.goto(path);
    return page;
  };
  const done = (page: Page) => assert.deepEqual(pageErrors(page).map(String), [], 'no error was thrown in the page');

  before(async () => {
    stack = await startStack({ yaml: YAML });
    // Content logging on for the account before the key is first used (keys are cached for 5 s).
    await api('/accounts/default', ADMIN_KEY, { method: 'PATCH', body: JSON.stringify({ log_content: true }) });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("Models: search, provider and free filters give the API's selection; a model page shows its endpoints", async () => {
    const page = await open('/models');
    const count = (path: string) => api<{ total_count: number; data: Array<{ id: string }> }>(`/models?${path}&limit=50&offset=0`);
    const shows = async (n: number) => page.locator('.fw-count', { hasText: new RegExp(`^${n} models?\\b`) }).waitFor();
    const rows = () => page.locator('tr[data-model]').evaluateAll((els) => els.map((e) => e.getAttribute('data-model')));

    const all = await count('output_modalities=text');
    assert.ok(all.total_count >= 3);
    await shows(all.total_count);
    await shoot(page, 'models');

    await page.getByLabel('Search').fill('claude sonnet 4.5');
    const sonnet = await count('q=claude+sonnet+4.5&output_modalities=text');
    assert.ok(sonnet.data.some((m) => m.id === LISTED.anthropic));
    await shows(sonnet.total_count);
    assert.deepEqual(
      await rows(),
      sonnet.data.map((m) => m.id),
    );

    await page.getByLabel('Search').fill('');
    await page.locator('select[name=provider]').selectOption('google');
    const google = await count('output_modalities=text&providers=google');
    assert.ok(google.total_count > 0 && google.total_count < all.total_count);
    await shows(google.total_count);
    assert.deepEqual(
      await rows(),
      google.data.map((m) => m.id),
    );
    assert.ok((await rows()).includes(LISTED.google));

    // The filters live in the address: a model page and Back return to the same selection.
    assert.match(page.url(), /\/models\?.*providers=google/);
    await page.locator(`tr[data-model="${LISTED.google}"] a`).click();
    await page.locator('tr[data-provider=google]').waitFor();
    await page.goBack();
    await shows(google.total_count);
    assert.equal(await page.locator('select[name=provider]').inputValue(), 'google');

    await page.getByLabel('Free only').check();
    const free = await count('output_modalities=text&providers=google&max_price=0&max_output_price=0');
    await shows(free.total_count);
    // The one free model (google serves it), listed under OpenRouter's `:free` variant id.
    assert.deepEqual(
      free.data.map((m) => m.id),
      ['test/free-flash:free'],
    );
    assert.deepEqual(await rows(), ['test/free-flash:free']);
    const freeRow = await page.locator('tr[data-model="test/free-flash:free"] td').allInnerTexts();
    assert.deepEqual(freeRow.slice(2, 4), ['free', 'free']);
    await page.getByLabel('Search').fill('no such model anywhere');
    await page.getByText('No model matches these filters').waitFor();

    await page.goto(`/models/${LISTED.anthropic}`);
    const endpoints = (
      await api<{ data: { endpoints: Array<{ tag: string; pricing: { prompt: string }; context_length: number }> } }>(
        `/models/${LISTED.anthropic}/endpoints`,
      )
    ).data.endpoints;
    const row = page.locator('tr[data-provider=anthropic]');
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    const e = endpoints.find((x) => x.tag === 'anthropic')!;
    assert.equal(cells[0], 'Anthropic');
    const shown = Number(cells[1].replace('$', ''));
    assert.ok(Math.abs(shown - Number(e.pricing.prompt) * 1e6) < 0.01, `the input price per million tokens: ${cells[1]}`);
    assert.match(await page.locator('.fw-code').innerText(), new RegExp(`"model": "${LISTED.anthropic.replace('.', '\\.')}"`));
    // The curl snippet works as shown, with the key in the environment.
    const curl = await page.locator('.fw-code').innerText();
    // (Asynchronously: the gateway answering it runs in this process.)
    const ran = await promisify(execFile)('bash', ['-c', curl], { env: { ...process.env, FREEWAY_API_KEY: stack.key }, encoding: 'utf8' });
    assert.match(
      (JSON.parse(ran.stdout) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content,
      /^Hello from Anthropic/,
    );
    await page.getByRole('tab', { name: 'Anthropic door' }).click();
    assert.match(
      await page.locator('.fw-code').innerText(),
      /^import os\nfrom anthropic import Anthropic\n[\s\S]*client\.messages\.create/,
    );
    await shoot(page, 'model');

    await page.goto('/models/test/free-flash:free');
    const freeEndpoint = page.locator('tr[data-provider=google]');
    await freeEndpoint.waitFor();
    const fc = await freeEndpoint.locator('td').allInnerTexts();
    assert.deepEqual([fc[0], fc[1], fc[2], fc[5]], ['Google AI Studio', 'free', 'free', 'fp8'], 'provider, prices and quantization');

    // The routers: priced "-1" by the API (the served model's rate), which the page says varies,
    // not "unpriced"; the free router is free; a router's page lists the endpoints it routes to.
    await page.goto('/models?q=router');
    await page.locator('tr[data-model="openrouter/auto"]').waitFor();
    assert.deepEqual(await rows(), ['openrouter/auto', 'openrouter/free']);
    const autoRow = await page.locator('tr[data-model="openrouter/auto"] td').allInnerTexts();
    assert.deepEqual(autoRow.slice(2, 4), ['varies', 'varies']);
    const freeRouter = await page.locator('tr[data-model="openrouter/free"] td').allInnerTexts();
    assert.deepEqual(freeRouter.slice(2, 4), ['free', 'free']);
    await page.goto('/models/openrouter/free');
    const routed = page.locator('tr[data-model="test/free-flash:free"]');
    await routed.waitFor();
    assert.match((await routed.locator('td').allInnerTexts())[0], /^Google AI Studio: .*\(free\)$/);
    assert.match(await page.locator('h3').first().innerText(), /Endpoints it routes to/);
    done(page);
  });

  it('Generations: a filter narrows the log; the detail shows the cost with the fee, the failover legs and the content', async () => {
    for (const model of Object.values(MODELS)) {
      await api('/chat/completions', stack.key, {
        method: 'POST',
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
    }
    stack.openai.failNext('[[die:5]]');
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'test/continuable',
        stream: true,
        provider: { order: ['openai', 'anthropic'] },
        messages: [{ role: 'user', content: 'tell me a story [[long]]' }],
      }),
    });
    await res.text();
    const failoverId = res.headers.get('x-generation-id')!;
    await stack.gw.app.generations.flush();
    const listed = (await api<{ data: GenerationView[] }>('/generations')).data;

    const page = await open('/generations');
    await page.locator(`tr[data-id="${failoverId}"]`).waitFor();
    assert.equal(await page.locator('tr[data-id]').count(), listed.length);
    await shoot(page, 'generations');

    await page.getByLabel('Model').fill('test/continuable');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction("document.querySelectorAll('tr[data-id]').length === 1");
    await page.locator(`tr[data-id="${failoverId}"] button`).click();
    const detail = page.locator('.fw-gen-detail');
    await detail.waitFor();
    const g = await generation(failoverId);
    assert.deepEqual(
      g.provider_responses.map((l) => l.provider_name),
      ['openai', 'anthropic'],
    );
    assert.equal(await detail.locator('[data-fact=cost]').innerText(), usd(g.total_cost));
    assert.equal(await detail.locator('[data-fact=fee]').innerText(), usd(g.cost_details.freeway_fee));
    assert.ok(g.cost_details.freeway_fee > 0, 'the 10% fee is charged and shown');
    const nanos = (v: number) => Math.round(v * 1e9);
    assert.equal(nanos(g.cost_details.upstream_inference_cost) + nanos(g.cost_details.freeway_fee), nanos(g.total_cost));
    assert.equal(await detail.locator('[data-fact=prompt]').innerText(), g.tokens_prompt.toLocaleString('en-US'));
    const legs = await detail.locator('.fw-legs tbody tr').evaluateAll((trs) => trs.map((tr) => tr.children[1].firstChild?.textContent));
    assert.deepEqual(legs, ['openai', 'anthropic']);
    await detail.getByRole('button', { name: 'Show prompt and answer' }).click();
    assert.match(await detail.locator('[data-fact=completion-text]').innerText(), /^word0 word1/);
    assert.equal(await detail.locator('.fw-content pre').first().innerText(), 'user: tell me a story [[long]]');
    await shoot(page, 'generation');
    done(page);
  });

  it("Generations for the admin key: the viewed account's log, filtered by key; no Compare (management keys call no model)", async () => {
    const own = (await api<{ data: GenerationView[] }>('/generations')).data;
    const keyHash = (await api<{ data: Array<GenerationView & { key_hash: string }> }>('/generations')).data[0].key_hash;
    await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.newKey('other')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODELS.openai, messages: [{ role: 'user', content: 'from another key' }] }),
    });
    await stack.gw.app.generations.flush();
    const all = (await api<{ data: GenerationView[] }>('/generations?account=default', ADMIN_KEY)).data;
    assert.equal(all.length, own.length + 1);
    const page = await openDashboard(browser, stack.gw.url, ADMIN_KEY);
    assert.equal(await page.getByRole('navigation').getByRole('link', { name: 'Compare' }).count(), 0);
    await page.goto('/generations');
    await page.waitForFunction(`document.querySelectorAll('tr[data-id]').length === ${all.length}`);
    await page.getByLabel('Key hash').fill(keyHash);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(`document.querySelectorAll('tr[data-id]').length === ${own.length}`);
    done(page);
  });

  it('Generations pages through the log with next_cursor: Load more adds the next page, nothing twice', async () => {
    const key = await stack.newKey('pager');
    const ask = (i: number) =>
      fetch(`${stack.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODELS.openai, messages: [{ role: 'user', content: `request ${i}` }] }),
      }).then((r) => r.text());
    for (let i = 0; i < 53; i += 10) await Promise.all(Array.from({ length: Math.min(10, 53 - i) }, (_, j) => ask(i + j)));
    await stack.gw.app.generations.flush();
    const page = await openDashboard(browser, stack.gw.url, key);
    await page.goto('/generations');
    await page.waitForFunction(`document.querySelectorAll('tr[data-id]').length === 50`);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction(`document.querySelectorAll('tr[data-id]').length === 53`);
    const ids = await page.locator('tr[data-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    assert.equal(new Set(ids).size, 53);
    assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'the last page offers no more');
    done(page);
  });

  it('Compare: three models on the three emulators stream three answers, with the costs /generation records', async () => {
    const page = await open('/compare');
    const models = [MODELS.openai, MODELS.anthropic, MODELS.google];
    for (const [i, m] of models.entries()) await page.locator(`input[name=model-${i}]`).fill(m);
    // [[gather:3]]: each emulator holds its answer until all three requests are waiting, so they were sent at once.
    await page.locator('textarea[name=turn-0]').fill('Name a colour [[gather:3]]');
    await page.getByRole('button', { name: 'Run comparison' }).click();
    // Done when each column offers Rerun (it offers Stop while streaming).
    await page.waitForFunction(
      `[...document.querySelectorAll('.fw-col footer button')].map((b) => b.textContent).join() === 'Rerun,Rerun,Rerun'`,
    );

    const columns = async () =>
      page.locator('article.fw-col').evaluateAll((els) =>
        els.map((el) => ({
          model: el.getAttribute('data-model'),
          text: el.querySelector('.fw-text')?.textContent ?? '',
          cost: el.querySelector('[data-metric=cost]')?.textContent ?? '',
          ttft: el.querySelector('[data-metric=ttft]')?.textContent ?? '',
          tokens: el.querySelector('[data-metric=tokens]')?.textContent ?? '',
          id: el.querySelector('[data-generation]')?.textContent ?? '',
        })),
      );
    const first = await columns();
    assert.deepEqual(
      first.map((c) => c.model),
      models,
    );
    for (const [c, name] of first.map((c, i) => [c, ['OpenAI', 'Anthropic', 'Gemini'][i]] as const)) {
      assert.match(c.text, new RegExp(`^Hello from ${name}[^!]*! You said: Name a colour`));
      assert.match(c.ttft, /^\d+ ms$/);
      const g = await generation(c.id);
      assert.equal(c.cost, usd(g.total_cost), `${c.model}: the cost shown is the one charged`);
      assert.equal(c.tokens, `${g.tokens_prompt} → ${g.tokens_completion}`);
      assert.ok(g.total_cost > 0);
    }
    await shoot(page, 'compare');

    // Kept in the browser: a reload shows the same comparison.
    await page.reload();
    await page.locator('article.fw-col').nth(2).waitFor();
    assert.deepEqual(
      (await columns()).map((c) => c.id),
      first.map((c) => c.id),
    );

    // Rerun one (without the gather directive: it goes alone): a new generation in that column only. The emulator
    // waits between frames ([[drip]]), and what the column shows while it still offers Stop is recorded: the answer
    // appears as it streams, not only at the end.
    await page.locator('textarea[name=turn-0]').fill('Name a colour [[drip:100]]');
    await page.evaluate(`(() => {
      window.__partial = [];
      const cols = document.querySelector('.fw-cols');
      new MutationObserver(() => {
        const col = cols.querySelectorAll('article.fw-col')[1];
        const text = col?.querySelector('.fw-text')?.textContent ?? '';
        if (col?.querySelector('footer button')?.textContent === 'Stop' && text.startsWith('Hello')) window.__partial.push(text);
      }).observe(cols, { subtree: true, childList: true, characterData: true });
    })()`);
    await page.locator('article.fw-col').nth(1).getByRole('button', { name: 'Rerun' }).click();
    await page.waitForFunction(`(() => {
      const col = document.querySelectorAll('article.fw-col')[1];
      const id = col?.querySelector('[data-generation]')?.textContent;
      return id && id !== ${JSON.stringify(first[1].id)} && col.querySelector('footer button')?.textContent === 'Rerun';
    })()`);
    const second = await columns();
    assert.notEqual(second[1].id, first[1].id);
    assert.equal(second[0].id, first[0].id);
    assert.equal(second[1].cost, usd((await generation(second[1].id)).total_cost));
    const partial = (await page.evaluate('window.__partial')) as string[];
    assert.ok(
      partial.some((t) => t.length < second[1].text.length && second[1].text.startsWith(t)),
      `seen while streaming: ${partial}`,
    );
    done(page);
  });
});
