/**
 * The Responses door's fields that have a chat-completions equivalent take the chat door's field
 * policy: forwarded to OpenAI, translated for Anthropic where a native equivalent exists, dropped
 * with a warning elsewhere; a hosted `web_search` tool becomes `web_search_options`. And the rule
 * for reasoning on every door: reasoning settings reach only models that reason. The expectations
 * are written by hand from the providers' documentation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LISTED, MODELS, startStack } from '../helpers/stack.ts';
import type { ProviderName, Stack } from '../helpers/stack.ts';

let stack: Stack;

before(async () => {
  stack = await startStack();
});
after(() => stack.close());

// any: the JSON answers below are read field by field; each assertion names what it expects.
type Json = any;

async function post(path: string, body: object): Promise<Json> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

/** The `response.created` and `response.completed` objects of a streamed response. */
async function streamed(body: object): Promise<{ created: Json; completed: Json }> {
  const res = await fetch(`${stack.baseURL}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const events = text
    .split('\n\n')
    .map((f) => f.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice(6)) as Json);
  return {
    created: events.find((e) => e.type === 'response.created').response,
    completed: events.find((e) => e.type === 'response.completed').response,
  };
}

const sent = (p: ProviderName): Json => stack[p === 'google' ? 'gemini' : p].last().body;

interface Case {
  name: string;
  fields: object;
  openai: [string, unknown];
  /** What Anthropic's body gets, 'warn' (dropped, warned) or 'silent' (a hint the others do without: dropped, no warning, on Gemini too). */
  anthropic: [string, unknown] | 'warn' | 'silent';
  /** The wire key that must be absent from every non-OpenAI body. */
  absent: string;
}

const CASES: Case[] = [
  { name: 'service_tier', fields: { service_tier: 'flex' }, openai: ['service_tier', 'flex'], anthropic: 'warn', absent: 'flex' },
  {
    name: 'service_tier (translated)',
    fields: { service_tier: 'priority' },
    openai: ['service_tier', 'priority'],
    anthropic: ['service_tier', 'auto'],
    absent: 'priority',
  },
  {
    name: 'prompt_cache_key',
    fields: { prompt_cache_key: 'conv-9' },
    openai: ['prompt_cache_key', 'conv-9'],
    anthropic: 'silent',
    absent: 'conv-9',
  },
  { name: 'metadata', fields: { metadata: { team: 'a' } }, openai: ['metadata', { team: 'a' }], anthropic: 'warn', absent: 'team' },
  {
    name: 'safety_identifier',
    fields: { safety_identifier: 'end-user-7' },
    openai: ['safety_identifier', 'end-user-7'],
    anthropic: ['metadata', { user_id: 'end-user-7' }],
    absent: 'end-user-7',
  },
  { name: 'text.verbosity', fields: { text: { verbosity: 'low' } }, openai: ['verbosity', 'low'], anthropic: 'warn', absent: 'verbosity' },
  // A hosted web_search tool on Anthropic and Gemini: test/e2e/web-search.test.ts.
];

/** The option a case's warning names. */
const warningField = (c: Case) =>
  c.name.startsWith('a web_search') ? 'web_search_options' : c.name.replace(/ \(.*/, '').replace('text.', '');

describe('Responses fields with a chat equivalent take the chat field policy', () => {
  for (const c of CASES) {
    test(`${c.name}: forwarded to OpenAI, no warning`, async () => {
      const r = await post('/responses', { model: MODELS.openai, input: 'hi', ...c.fields });
      assert.deepEqual(sent('openai')[c.openai[0]], c.openai[1]);
      assert.equal(r.warnings, undefined, JSON.stringify(r.warnings));
      assert.equal(sent('openai').store, undefined, 'store is never sent: it means Freeway stores the response');
    });

    const onAnthropic = c.anthropic === 'warn' ? 'dropped with a warning' : c.anthropic === 'silent' ? 'dropped quietly' : 'translated';
    const onGemini = c.anthropic === 'silent' ? 'quietly' : 'with a warning';
    test(`${c.name}: ${onAnthropic} for Anthropic, dropped ${onGemini} for Gemini`, async () => {
      const a = await post('/responses', { model: MODELS.anthropic, input: 'hi', ...c.fields });
      if (c.anthropic === 'silent') {
        assert.equal(a.warnings, undefined, JSON.stringify(a.warnings));
        assert.doesNotMatch(JSON.stringify(sent('anthropic')), new RegExp(c.absent));
        const g = await post('/responses', { model: MODELS.google, input: 'hi', ...c.fields });
        assert.equal(g.warnings, undefined, JSON.stringify(g.warnings));
        assert.doesNotMatch(JSON.stringify(sent('google')), new RegExp(c.absent));
        return;
      }
      if (c.anthropic === 'warn') {
        assert.ok(
          a.warnings?.some((w: string) => w.includes(warningField(c))),
          JSON.stringify(a.warnings),
        );
        assert.doesNotMatch(JSON.stringify(sent('anthropic')), new RegExp(c.absent));
      } else {
        assert.deepEqual(sent('anthropic')[c.anthropic[0]], c.anthropic[1]);
        assert.equal(a.warnings, undefined, JSON.stringify(a.warnings));
      }
      const g = await post('/responses', { model: MODELS.google, input: 'hi', ...c.fields });
      assert.ok(
        g.warnings?.some((w: string) => w.includes(warningField(c))),
        JSON.stringify(g.warnings),
      );
      assert.doesNotMatch(JSON.stringify(sent('google')), new RegExp(c.absent));
    });
  }

  // (On the Responses stream, the adapters' warnings are the stream-warnings work's: render-stream.ts.)
  test('streamed, the field reaches OpenAI as it does whole', async () => {
    await streamed({ model: MODELS.openai, input: 'hi', text: { verbosity: 'high' }, service_tier: 'flex' });
    assert.deepEqual([sent('openai').verbosity, sent('openai').service_tier], ['high', 'flex']);
  });

  test("the stream's final response reports the upstream's own service_tier", async () => {
    const { completed } = await streamed({ model: MODELS.openai, input: 'hi', service_tier: 'flex' });
    assert.equal(completed.service_tier, 'flex');
  });

  test("the answer reports the upstream's own service_tier", async () => {
    assert.equal((await post('/responses', { model: MODELS.openai, input: 'hi', service_tier: 'flex' })).service_tier, 'flex');
    assert.equal((await post('/responses', { model: MODELS.openai, input: 'hi' })).service_tier, 'default');
    // Anthropic's usage.service_tier `standard`, in OpenAI's words.
    assert.equal((await post('/responses', { model: MODELS.anthropic, input: 'hi', service_tier: 'priority' })).service_tier, 'default');
    assert.equal((await post('/responses', { model: MODELS.google, input: 'hi' })).service_tier, null, 'Gemini reports none');
  });

  test('a web search restricted in a way chat cannot say is dropped with a warning, never widened', async () => {
    const r = await post('/responses', {
      model: MODELS.openai,
      input: 'hi',
      tools: [{ type: 'web_search', filters: { allowed_domains: ['example.com'] } }],
    });
    assert.equal(sent('openai').web_search_options, undefined);
    assert.match(r.warnings.join('\n'), /domain filters/);
  });

  test('values are checked as the chat door checks them', async () => {
    const res = await fetch(`${stack.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODELS.openai, input: 'hi', service_tier: 'turbo' }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as Json).error.param, 'service_tier');
  });
});

describe('reasoning reaches only models that reason', () => {
  const dropped = /reasoning is not supported by gpt-4o-mini and was not sent/;

  test('Responses: on gpt-4o-mini dropped with a warning (as Codex sends it); on a reasoning model forwarded', async () => {
    const r = await post('/responses', { model: MODELS.openai, input: 'hi', reasoning: { summary: 'auto' } });
    assert.equal(sent('openai').reasoning_effort, undefined);
    assert.match(r.warnings.join('\n'), dropped);
    await streamed({ model: MODELS.openai, input: 'hi', reasoning: { effort: 'low' } });
    assert.equal(sent('openai').reasoning_effort, undefined, 'streamed too');
    await post('/responses', { model: 'openai/gpt-5-mini', input: 'hi', reasoning: { effort: 'low', summary: 'auto' } });
    assert.equal(sent('openai').reasoning_effort, 'low');
  });

  test('chat: on gpt-4o-mini dropped with a warning (whole and streamed); on a reasoning model forwarded', async () => {
    const r = await post('/chat/completions', {
      model: MODELS.openai,
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'high',
    });
    assert.equal(sent('openai').reasoning_effort, undefined);
    assert.match(r.warnings.join('\n'), dropped);
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODELS.openai,
        messages: [{ role: 'user', content: 'hi' }],
        reasoning: { effort: 'low' },
        stream: true,
      }),
    });
    assert.match(await res.text(), dropped);
    await post('/chat/completions', { model: 'openai/o4-mini', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'high' });
    assert.equal(sent('openai').reasoning_effort, 'high');
  });

  test('no warning when nothing asks for reasoning (effort none)', async () => {
    const r = await post('/chat/completions', {
      model: MODELS.openai,
      messages: [{ role: 'user', content: 'hi' }],
      reasoning: { effort: 'none' },
    });
    assert.equal(sent('openai').reasoning_effort, undefined);
    assert.equal(r.warnings, undefined);
  });

  test("/models leaves reasoning out of a non-reasoning model's supported parameters", async () => {
    const res = await fetch(`${stack.baseURL}/models`, { headers: { authorization: `Bearer ${stack.key}` } });
    const models = ((await res.json()) as Json).data as Json[];
    assert.ok(!models.find((m) => m.id === MODELS.openai).supported_parameters.includes('reasoning'));
    assert.ok(models.find((m) => m.id === 'openai/gpt-5-mini').supported_parameters.includes('reasoning'));
    assert.ok(models.find((m) => m.id === LISTED.anthropic).supported_parameters.includes('reasoning'));
  });
});
