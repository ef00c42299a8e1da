/**
 * `web_search_options` (and the Responses door's hosted `web_search` tool) on the upstreams that
 * have a native web search: Anthropic's `web_search` server tool, Gemini's `google_search` tool —
 * what reaches each emulator, what the client is told, and the searches charged as each provider
 * bills them, to the nano-dollar: Anthropic $10 per 1,000 searches, Gemini 2.5 $35 per 1,000
 * grounded prompts, Gemini 3 $14 per 1,000 search queries. Expectations are written here from the
 * providers' documentation and price pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOpenRouterShape } from '../helpers/openrouter-schemas.ts';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;

before(async () => {
  stack = await startStack();
});
after(() => stack.close());

// any: JSON answers, read field by field; each assertion names what it expects.
type Json = any;

async function post(body: object, path = '/chat/completions'): Promise<{ status: number; json: Json; text: string }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
}

/** A streamed chat answer's chunks. */
async function chunks(body: object): Promise<Json[]> {
  const r = await post({ ...body, stream: true });
  assert.equal(r.status, 200, r.text);
  return r.text
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => JSON.parse(f.slice(6)));
}

const nanos = (usd: number): number => Math.round(usd * 1e9);

/** Nano-dollars per prompt and completion token (catalog prices of the emulated models). */
const TOKENS: Record<string, [number, number]> = {
  [MODELS.anthropic]: [3_000, 15_000],
  [MODELS.google]: [300, 2_500],
  'google/gemini-3-pro-preview': [2_000, 12_000],
};

/** The charge for an answer's tokens (none cached here) plus `searchNanos`, checked in the answer and the record. */
async function charged(id: string, model: string, usage: Json, searchNanos: number): Promise<void> {
  const [p, c] = TOKENS[model];
  assert.equal(usage.prompt_tokens_details.cached_tokens, 0);
  const expected = usage.prompt_tokens * p + usage.completion_tokens * c + searchNanos;
  assert.equal(nanos(usage.cost), expected);
  const g = await fetch(`${stack.baseURL}/generation?id=${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${stack.key}` } });
  assert.equal(((await g.json()) as Json).data.cost_nanos, expected);
}

const WHERE = { search_context_size: 'low', user_location: { type: 'approximate', approximate: { city: 'Lyon', country: 'FR' } } };
const question = (model: string, extra: object = {}) => ({
  model,
  messages: [{ role: 'user', content: 'What happened in Lyon today?' }],
  max_tokens: 200,
  ...extra,
});

describe('Anthropic: the web_search server tool', () => {
  test('web_search_options become the tool; the search is charged; no tool call reaches the client', async () => {
    const r = await post(question(MODELS.anthropic, { web_search_options: WHERE }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(stack.anthropic.last().body.tools, [
      { type: 'web_search_20250305', name: 'web_search', max_uses: 1, user_location: { type: 'approximate', city: 'Lyon', country: 'FR' } },
    ]);
    assert.equal(r.json.warnings, undefined, JSON.stringify(r.json.warnings));
    const m = r.json.choices[0];
    assert.equal(m.finish_reason, 'stop');
    assert.equal(m.message.tool_calls, undefined);
    assert.match(m.message.content, /Lyon/);
    // The search result the answer cites, as a url_citation over the text it cites (the whole answer here).
    assert.deepEqual(m.message.annotations, [
      {
        type: 'url_citation',
        url_citation: {
          url: 'https://example.com/search-result',
          title: 'About What happened in Lyon today?',
          content: m.message.content.slice(0, 150),
          start_index: 0,
          end_index: m.message.content.length,
        },
      },
    ]);
    assertOpenRouterShape('chat.completions', r.json);
    await charged(r.json.id, MODELS.anthropic, r.json.usage, 10_000_000);
  });

  test('streamed: the same tool, the same charge, only text in the deltas', async () => {
    const all = await chunks(question(MODELS.anthropic, { web_search_options: {} }));
    assert.deepEqual(stack.anthropic.last().body.tools, [{ type: 'web_search_20250305', name: 'web_search' }]);
    assert.ok(all.every((ch) => ch.choices?.[0]?.delta?.tool_calls === undefined));
    const last = all.at(-1);
    assert.equal(all.find((ch) => ch.choices?.[0]?.finish_reason)?.choices[0].finish_reason, 'stop');
    await charged(last.id, MODELS.anthropic, last.usage, 10_000_000);
  });

  test('beside function tools, the search tool comes last and the function is still called', async () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } } };
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters } }];
    const r = await post(question(MODELS.anthropic, { web_search_options: {}, tools }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      stack.anthropic.last().body.tools.map((t: Json) => t.type ?? t.name),
      ['get_weather', 'web_search_20250305'],
    );
    assert.equal(r.json.choices[0].message.tool_calls[0].function.name, 'get_weather');
  });

  test("the Responses door's hosted web_search tool takes the same way", async () => {
    const tools = [{ type: 'web_search', user_location: { type: 'approximate', country: 'FR', city: 'Lyon' } }];
    const r = await post({ model: MODELS.anthropic, input: 'What happened in Lyon today?', tools }, '/responses');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(stack.anthropic.last().body.tools, [
      { type: 'web_search_20250305', name: 'web_search', user_location: { type: 'approximate', city: 'Lyon', country: 'FR' } },
    ]);
    assert.equal(r.json.warnings, undefined);
    const text = r.json.output.find((i: Json) => i.type === 'message').content[0];
    assert.deepEqual(text.annotations, [
      {
        type: 'url_citation',
        url: 'https://example.com/search-result',
        title: 'About What happened in Lyon today?',
        start_index: 0,
        end_index: text.text.length,
      },
    ]);
    assertOpenRouterShape('responses', r.json);
    const u = r.json.usage;
    assert.equal(nanos(u.cost), u.input_tokens * 3_000 + u.output_tokens * 15_000 + 10_000_000);
  });
});

describe('Gemini: the google_search tool', () => {
  test('Gemini 2.5: one grounded prompt charged; the location it cannot take is warned about', async () => {
    const r = await post(question(MODELS.google, { web_search_options: WHERE }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(stack.gemini.last().body.tools, [{ google_search: {} }]);
    assert.deepEqual(r.json.warnings, [
      'web_search_options.user_location is not supported by Gemini and was not sent: Google Search grounding takes no such setting.',
      'web_search_options.search_context_size is not supported by Gemini and was not sent: Google Search grounding takes no such setting.',
    ]);
    const text: string = r.json.choices[0].message.content;
    assert.deepEqual(r.json.choices[0].message.annotations, [
      {
        type: 'url_citation',
        url_citation: {
          url: 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/emulated',
          title: 'example.com',
          content: text,
          start_index: 0,
          end_index: text.length,
        },
      },
    ]);
    assertOpenRouterShape('chat.completions', r.json);
    await charged(r.json.id, MODELS.google, r.json.usage, 35_000_000);
  });

  test('Gemini 3, streamed: each search query charged', async () => {
    const model = 'google/gemini-3-pro-preview';
    const all = await chunks(question(model, { web_search_options: {} }));
    assert.deepEqual(stack.gemini.last().body.tools, [{ google_search: {} }]);
    const last = all.at(-1);
    await charged(last.id, model, last.usage, 14_000_000);
  });

  test('without web_search_options nothing is searched or charged for searching', async () => {
    const r = await post(question(MODELS.google));
    assert.equal(stack.gemini.last().body.tools, undefined);
    await charged(r.json.id, MODELS.google, r.json.usage, 0);
  });
});

describe('OpenAI: web_search_options as written, on the models that search', () => {
  test('a search model gets it; any other model answers without it, with a warning (OpenAI would refuse it)', async () => {
    const search = await post(question('openai/gpt-4o-search-preview', { web_search_options: WHERE }));
    assert.equal(search.status, 200, search.text);
    assert.deepEqual(stack.openai.last().body.web_search_options, WHERE);
    assert.equal(search.json.warnings, undefined);
    const other = await post(question(MODELS.openai, { web_search_options: WHERE }));
    assert.equal(other.status, 200, other.text);
    assert.equal(stack.openai.last().body.web_search_options, undefined);
    assert.deepEqual(other.json.warnings, [
      'web_search_options is not supported by gpt-4o-mini and was not sent: only its search models search the web on chat completions.',
    ]);
  });
});

describe("OpenRouter's web plugin", () => {
  test('the native engine is the native web search: the Anthropic tool, the Gemini tool, charged alike', async () => {
    const a = await post(question(MODELS.anthropic, { plugins: [{ id: 'web' }] }));
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(stack.anthropic.last().body.tools, [{ type: 'web_search_20250305', name: 'web_search' }]);
    assert.equal(a.json.warnings, undefined);
    assert.equal(stack.anthropic.last().body.plugins, undefined);
    await charged(a.json.id, MODELS.anthropic, a.json.usage, 10_000_000);
    const g = await post(question(MODELS.google, { plugins: [{ id: 'web', engine: 'native' }] }));
    assert.deepEqual(stack.gemini.last().body.tools, [{ google_search: {} }]);
    await charged(g.json.id, MODELS.google, g.json.usage, 35_000_000);
  });

  test("the client's own web_search_options win; Exa's settings and engine are warned about", async () => {
    const plugins = [{ id: 'web', max_results: 3 }];
    const a = await post(question(MODELS.anthropic, { plugins, web_search_options: { search_context_size: 'low' } }));
    assert.deepEqual(stack.anthropic.last().body.tools, [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }]);
    assert.deepEqual(a.json.warnings, ['plugin "web": max_results applies to the Exa engine only; the native web search was used.']);
    const exa = await post(question(MODELS.anthropic, { plugins: [{ id: 'web', engine: 'exa' }] }));
    assert.equal(stack.anthropic.last().body.tools, undefined);
    assert.match(exa.json.warnings[0], /plugin "web" engine "exa" \(web search\) is not available/);
    const off = await post(question(MODELS.anthropic, { plugins: [{ id: 'web', enabled: false }] }));
    assert.equal(off.status, 200);
    assert.equal(stack.anthropic.last().body.tools, undefined);
  });
});

test('web_search_options is checked as OpenAI checks it', async () => {
  const bad = [
    [{ search_context_size: 'huge' }, 'web_search_options.search_context_size'],
    [{ user_location: { type: 'exact', approximate: {} } }, 'web_search_options.user_location.type'],
    [{ user_location: { type: 'approximate', approximate: { city: 5 } } }, 'web_search_options.user_location.approximate.city'],
    [{ engine: 'exa' }, 'web_search_options'],
  ] as const;
  for (const [value, param] of bad) {
    const r = await post(question(MODELS.anthropic, { web_search_options: value }));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.metadata.param, param);
  }
});

describe("The Messages door: Anthropic's web_search tool on every upstream", () => {
  const tool = {
    type: 'web_search_20250305',
    name: 'web_search',
    max_uses: 1,
    user_location: { type: 'approximate', city: 'Lyon', country: 'FR' },
  };
  const ask = (model: string, t: object = tool) => ({
    model,
    max_tokens: 200,
    tools: [t],
    messages: [{ role: 'user', content: 'What happened in Lyon today?' }],
  });

  test('Claude gets the tool as the client wrote it', async () => {
    const r = await post(ask(MODELS.anthropic), '/messages');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(stack.anthropic.last().body.tools, [tool]);
  });

  test('Gemini gets its google_search tool, and is told what it cannot take; the search is charged', async () => {
    const r = await post(ask(MODELS.google), '/messages');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(stack.gemini.last().body.tools, [{ google_search: {} }]);
    assert.match(JSON.stringify(r.json.warnings), /user_location is not supported by Gemini/);
    const g = await fetch(`${stack.baseURL}/generation?id=${encodeURIComponent(r.json.id)}`, {
      headers: { authorization: `Bearer ${stack.key}` },
    });
    const [p, c] = TOKENS[MODELS.google];
    const u = r.json.usage;
    assert.equal(((await g.json()) as Json).data.cost_nanos, u.input_tokens * p + u.output_tokens * c + 35_000_000);
  });

  test('a GPT model that cannot search answers without it, with a warning', async () => {
    const r = await post(ask(MODELS.openai), '/messages');
    assert.equal(r.status, 200, r.text);
    assert.equal(stack.openai.last().body.web_search_options, undefined);
    assert.equal(stack.openai.last().body.tools, undefined);
    assert.match(JSON.stringify(r.json.warnings), /web_search_options is not supported by gpt-4o-mini/);
  });

  test('a search limited by domain is never widened: only Anthropic may serve it', async () => {
    const r = await post(ask(MODELS.google, { ...tool, allowed_domains: ['example.com'] }), '/messages');
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /a web search limited by domain can only be used with a model served by Anthropic/);
  });
});
