/**
 * The chat door's field policy, end to end: for each field the client may send, what reaches the
 * OpenAI, Anthropic and Gemini emulators (forwarded as is, translated, or absent), and the warning
 * the client is shown — on the whole answer and on the stream alike. The expectations are written
 * here by hand from the providers' documentation, not read from Freeway's table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { ProviderName, Stack } from '../helpers/stack.ts';
import type { Emulator } from '../emulators/common.ts';
import { UPSTREAM_OPTIONS } from '../../src/providers/field-policy.ts';

let stack: Stack;

// DeepSeek's preset (an OpenAI-compatible server that is not OpenAI), served by the OpenAI emulator.
const YAML = `
providers:
  deepseek:
    apiKey: \${OPENAI_API_KEY}
    baseUrl: \${OPENAI_BASE_URL}
    # The emulator lists OpenAI's models, not DeepSeek's: the price data says what DeepSeek serves.
    discoverModels: false
`;

before(async () => {
  stack = await startStack({ yaml: YAML });
});
after(() => stack.close());

type Json = Record<string, unknown>;

function emulator(p: ProviderName): Emulator {
  return p === 'openai' ? stack.openai : p === 'anthropic' ? stack.anthropic : stack.gemini;
}

async function post(body: Json, headers: Record<string, string> = {}, path = '/chat/completions'): Promise<Response> {
  return fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function whole(body: Json, headers?: Record<string, string>, path?: string): Promise<Json> {
  const res = await post(body, headers, path);
  const json = (await res.json()) as Json;
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

/** The stream's data chunks, parsed. */
async function streamed(body: Json, headers?: Record<string, string>, path?: string): Promise<Json[]> {
  const res = await post({ ...body, stream: true }, headers, path);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(text, /data: \[DONE\]\n\n$/);
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => JSON.parse(f.slice(6)) as Json);
}

/** What the emulator received as the request body of the last call. */
function sent(p: ProviderName): Json {
  return emulator(p).last().body as Json;
}

const ask = (p: ProviderName, extra: Json): Json => ({
  model: MODELS[p],
  messages: [{ role: 'user', content: 'hi' }],
  max_tokens: 50,
  ...extra,
});

/** What one field must become on each upstream: the key and value in its body, or absent with a warning. */
interface Case {
  field: string;
  value: unknown;
  openai: { key: string; value: unknown };
  anthropic: { key: string; value: unknown } | 'warn' | 'silent';
  gemini: 'warn' | 'silent';
  /** The OpenAI model that takes the field, when not every one does. */
  openaiModel?: string;
}

/** A service tier asked for, and what OpenAI, Anthropic and Gemini get. */
function tier(asked: string, openai: string, anthropic: string, gemini: Case['gemini']): Case[] {
  const key = 'service_tier';
  return [{ field: key, value: asked, openai: { key, value: openai }, anthropic: { key, value: anthropic }, gemini }];
}

const CASES: Case[] = [
  {
    field: 'prediction',
    value: { type: 'content', content: 'hi there' },
    openai: { key: 'prediction', value: { type: 'content', content: 'hi there' } },
    anthropic: 'warn',
    gemini: 'warn',
  },
  { field: 'verbosity', value: 'low', openai: { key: 'verbosity', value: 'low' }, anthropic: 'warn', gemini: 'warn' },
  {
    field: 'prompt_cache_key',
    value: 'conv-42',
    openai: { key: 'prompt_cache_key', value: 'conv-42' },
    anthropic: 'silent',
    gemini: 'silent',
  },
  {
    // Anthropic's web search server tool, one search for a low context size; Gemini's google_search tool,
    // which takes no context size (warned). test/e2e/web-search.test.ts follows the searches to the charge.
    field: 'web_search_options',
    value: { search_context_size: 'low' },
    openai: { key: 'web_search_options', value: { search_context_size: 'low' } },
    anthropic: { key: 'tools', value: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }] },
    gemini: 'warn',
    // OpenAI's chat completions search only with its search models (any other is test/e2e/web-search.test.ts's).
    openaiModel: 'openai/gpt-4o-search-preview',
  },
  { field: 'metadata', value: { team: 'a' }, openai: { key: 'metadata', value: { team: 'a' } }, anthropic: 'warn', gemini: 'warn' },
  { field: 'modalities', value: ['text'], openai: { key: 'modalities', value: ['text'] }, anthropic: 'silent', gemini: 'silent' },
  { field: 'service_tier', value: 'flex', openai: { key: 'service_tier', value: 'flex' }, anthropic: 'warn', gemini: 'warn' },
  { field: 'store', value: true, openai: { key: 'store', value: true }, anthropic: 'warn', gemini: 'warn' },
  // `store: false` asks nothing of an upstream that stores nothing.
  { field: 'store', value: false, openai: { key: 'store', value: false }, anthropic: 'silent', gemini: 'silent' },
  {
    field: 'safety_identifier',
    value: 'end-user-7',
    openai: { key: 'safety_identifier', value: 'end-user-7' },
    anthropic: { key: 'metadata', value: { user_id: 'end-user-7' } },
    gemini: 'warn',
  },
  {
    field: 'prompt_cache_retention',
    value: '24h',
    openai: { key: 'prompt_cache_retention', value: '24h' },
    anthropic: 'warn',
    gemini: 'warn',
  },
  {
    field: 'functions',
    value: [{ name: 'f', parameters: { type: 'object', properties: {} } }],
    openai: { key: 'functions', value: [{ name: 'f', parameters: { type: 'object', properties: {} } }] },
    anthropic: 'warn',
    gemini: 'warn',
  },
  ...tier('priority', 'priority', 'auto', 'warn'),
  ...tier('default', 'default', 'standard_only', 'silent'),
  // OpenRouter's `fast` is OpenAI's `priority`.
  ...tier('fast', 'priority', 'auto', 'warn'),
];

test('every option of the field policy has its case here', () => {
  // audio and x-anthropic-beta have their own tests below; function_call travels with functions.
  const covered = new Set([...CASES.map((c) => c.field), 'audio', 'x-anthropic-beta', 'function_call']);
  assert.deepEqual(
    UPSTREAM_OPTIONS.filter((o) => !covered.has(o)),
    [],
  );
});

const warningsOf = (j: Json): string[] => (Array.isArray(j.warnings) ? (j.warnings as string[]) : []);

/** The warnings a stream showed, and the first chunk that showed any. */
function streamWarnings(chunks: Json[]): { warnings: string[]; at: number } {
  const at = chunks.findIndex((c) => warningsOf(c).length > 0);
  return { warnings: chunks.flatMap(warningsOf), at };
}

for (const c of CASES) {
  describe(`${c.field}: ${JSON.stringify(c.value)}`, () => {
    for (const stream of [false, true]) {
      const how = stream ? 'streamed' : 'whole';
      test(`OpenAI gets it as written (${how}), no warning`, async () => {
        const body = ask('openai', { [c.field]: c.value, ...(c.openaiModel ? { model: c.openaiModel } : {}) });
        const warnings = stream ? streamWarnings(await streamed(body)).warnings : warningsOf(await whole(body));
        assert.deepEqual(sent('openai')[c.openai.key], c.openai.value);
        assert.deepEqual(warnings, []);
      });

      test(`Anthropic (${how})`, async () => {
        const body = ask('anthropic', { [c.field]: c.value });
        const { warnings, at } = stream ? streamWarnings(await streamed(body)) : { warnings: warningsOf(await whole(body)), at: 0 };
        const got = sent('anthropic');
        if (typeof c.anthropic === 'object') {
          assert.deepEqual(got[c.anthropic.key], c.anthropic.value);
          assert.deepEqual(warnings, []);
        } else {
          assert.equal(got[c.field], undefined, `${c.field} must not reach Anthropic`);
          if (c.anthropic === 'silent') assert.deepEqual(warnings, []);
          else {
            assert.ok(
              warnings.some((w) => w.includes(c.field)),
              `a warning names ${c.field}: ${JSON.stringify(warnings)}`,
            );
            assert.equal(at, 0, 'the warning rides on the first chunk');
          }
        }
      });

      test(`Gemini (${how})`, async () => {
        const body = ask('google', { [c.field]: c.value });
        const { warnings, at } = stream ? streamWarnings(await streamed(body)) : { warnings: warningsOf(await whole(body)), at: 0 };
        // The Gemini emulator refuses unknown fields anywhere, so a 200 already says nothing leaked.
        assert.ok(!JSON.stringify(sent('google')).includes(c.field));
        if (c.gemini === 'silent') assert.deepEqual(warnings, []);
        else {
          assert.ok(
            warnings.some((w) => w.includes(c.field)),
            `a warning names ${c.field}: ${JSON.stringify(warnings)}`,
          );
          assert.equal(at, 0, 'the warning rides on the first chunk');
        }
      });
    }
  });
}

describe('audio output', () => {
  const extra = { modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } };

  test('OpenAI gets audio together with its modalities', async () => {
    await whole(ask('openai', extra));
    assert.deepEqual(sent('openai').modalities, ['text', 'audio']);
    assert.deepEqual(sent('openai').audio, { voice: 'alloy', format: 'wav' });
  });

  test('Anthropic and Gemini answer in text and say so, whole and streamed', async () => {
    for (const p of ['anthropic', 'google'] as const) {
      const w = warningsOf(await whole(ask(p, extra)));
      assert.ok(
        w.some((x) => x.includes('modalities')),
        JSON.stringify(w),
      );
      assert.ok(
        w.some((x) => x.includes('audio')),
        JSON.stringify(w),
      );
      const s = streamWarnings(await streamed(ask(p, extra)));
      assert.deepEqual(s.warnings, w);
      assert.equal(s.at, 0);
      assert.equal(sent(p === 'google' ? 'google' : 'anthropic').audio, undefined);
    }
  });

  test('audio output without its settings is refused, as OpenAI does', async () => {
    const res = await post(ask('openai', { modalities: ['text', 'audio'] }));
    assert.equal(res.status, 400);
  });
});

describe("service_tier in the answer is the upstream's own", () => {
  test("OpenAI: what it says it ran on, whole and on the stream's last chunk", async () => {
    assert.equal((await whole(ask('openai', { service_tier: 'flex' }))).service_tier, 'flex');
    assert.equal((await whole(ask('openai', {}))).service_tier, 'default');
    const chunks = await streamed(ask('openai', { service_tier: 'priority' }));
    assert.equal(chunks.at(-1)!.service_tier, 'priority');
  });

  test("Anthropic: its usage.service_tier, in OpenAI's words", async () => {
    assert.equal((await whole(ask('anthropic', { service_tier: 'priority' }))).service_tier, 'default');
    const chunks = await streamed(ask('anthropic', {}));
    assert.equal(chunks.at(-1)!.service_tier, 'default');
  });

  test('Gemini says nothing, so neither does the answer', async () => {
    assert.equal((await whole(ask('google', {}))).service_tier, undefined);
    const chunks = await streamed(ask('google', {}));
    assert.ok(chunks.every((c) => c.service_tier === undefined));
  });
});

describe("OpenRouter's own fields are consumed by Freeway", () => {
  const extensions = {
    trace: { trace_id: 't-1', span_name: 'chat' },
    debug: { echo_upstream_body: true },
    preset: 'my-preset',
    session_id: 'sess-1',
    models: [MODELS.openai],
    route: 'fallback',
    provider: { allow_fallbacks: true },
    transforms: [],
    usage: { include: true },
    plugins: [{ id: 'auto-router' }, { id: 'web', enabled: false }, { id: 'file-parser', pdf: { engine: 'native' } }],
  };

  for (const p of ['openai', 'anthropic', 'google'] as const) {
    test(`none reaches ${p}; the ones Freeway cannot honour are warned, whole and streamed`, async () => {
      const w = warningsOf(await whole(ask(p, extensions)));
      const body = JSON.stringify(sent(p));
      for (const k of Object.keys(extensions)) assert.ok(!body.includes(`"${k}"`), `${k} reached ${p}`);
      assert.ok(
        w.some((x) => x.includes('preset')),
        JSON.stringify(w),
      );
      assert.ok(
        w.some((x) => x.includes('echo_upstream_body')),
        JSON.stringify(w),
      );
      assert.ok(!w.some((x) => x.includes('trace')), 'trace asks nothing of the answer');
      const s = streamWarnings(await streamed(ask(p, extensions)));
      assert.equal(s.at, 0);
      for (const x of w) assert.ok(s.warnings.includes(x), `${x} is on the stream too`);
    });
  }

  test('an unknown plugin id is a 400 naming it', async () => {
    const res = await post(ask('openai', { plugins: [{ id: 'web' }, { id: 'made-up' }] }));
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string; metadata: { param: string } } };
    assert.equal(body.error.metadata.param, 'plugins[1].id');
    assert.match(body.error.message, /made-up/);
  });

  test('plugins Freeway lacks are said out loud', async () => {
    const plugins = [{ id: 'web', engine: 'exa' }, { id: 'response-healing' }];
    const w = warningsOf(await whole(ask('openai', { plugins, transforms: ['middle-out'] })));
    assert.ok(
      w.some((x) => x.includes('"web" engine "exa"')),
      JSON.stringify(w),
    );
    assert.ok(
      w.some((x) => x.includes('response-healing')),
      JSON.stringify(w),
    );
    assert.ok(
      w.some((x) => x.includes('middle-out')),
      JSON.stringify(w),
    );
  });
});

describe('x-anthropic-beta', () => {
  test('reaches an Anthropic upstream as anthropic-beta, whole and streamed', async () => {
    const beta = 'fine-grained-tool-streaming-2025-05-14';
    await whole(ask('anthropic', {}), { 'x-anthropic-beta': beta });
    assert.equal(stack.anthropic.last().headers['anthropic-beta'], beta);
    await streamed(ask('anthropic', {}), { 'x-anthropic-beta': beta });
    assert.equal(stack.anthropic.last().headers['anthropic-beta'], beta);
  });

  test('is not a warning elsewhere (it asks nothing of other upstreams)', async () => {
    const j = await whole(ask('openai', {}), { 'x-anthropic-beta': 'x' });
    assert.deepEqual(warningsOf(j), []);
    assert.equal(stack.openai.last().headers['anthropic-beta'], undefined);
  });
});

describe('legacy completions', () => {
  const legacy = (extra: Json): Json => ({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'Once upon', max_tokens: 20, ...extra });

  test("OpenAI's /completions takes none of the chat options: each is left out with a warning, whole and streamed", async () => {
    const w = warningsOf(await whole(legacy({ metadata: { a: 'b' }, service_tier: 'flex' }), {}, '/completions'));
    assert.equal(sent('openai').metadata, undefined);
    assert.equal(sent('openai').service_tier, undefined);
    assert.ok(w.some((x) => x.includes('metadata')) && w.some((x) => x.includes('service_tier')), JSON.stringify(w));
    const s = streamWarnings(await streamed(legacy({ metadata: { a: 'b' }, preset: 'p' }), {}, '/completions'));
    assert.equal(s.at, 0);
    assert.ok(s.warnings.some((x) => x.includes('metadata')) && s.warnings.some((x) => x.includes('preset')), JSON.stringify(s.warnings));
  });

  test('its own legacy fields still reach it, and neutral values are not warned', async () => {
    const w = warningsOf(await whole(legacy({ echo: true, suffix: '.', store: false }), {}, '/completions'));
    assert.equal(sent('openai').echo, true);
    assert.equal(sent('openai').suffix, '.');
    assert.equal(sent('openai').store, undefined);
    assert.deepEqual(w, []);
  });
});

describe('OpenAI-compatible servers other than OpenAI', () => {
  const deepseek = (extra: Json): Json => ({ ...ask('openai', extra), model: 'deepseek/deepseek-chat' });

  test("OpenAI's own options are left out with a warning, whole and streamed (only OpenAI, Azure and OpenRouter take them)", async () => {
    const extra = { service_tier: 'flex', metadata: { a: 'b' }, modalities: ['text'] };
    const w = warningsOf(await whole(deepseek(extra)));
    assert.equal(sent('openai').service_tier, undefined);
    assert.equal(sent('openai').metadata, undefined);
    assert.ok(w.some((x) => x.includes('service_tier')) && w.some((x) => x.includes('metadata')), JSON.stringify(w));
    assert.ok(!w.some((x) => x.includes('modalities')), 'a text-only answer asks for nothing');
    const s = streamWarnings(await streamed(deepseek(extra)));
    assert.equal(s.at, 0);
    assert.deepEqual(s.warnings, w);
  });

  test('unknown fields go to a lenient server as provider-specific parameters, never to OpenAI, which refuses them', async () => {
    // The DeepSeek preset is not marked strict, so it gets them; the emulator standing in for it is
    // strict like OpenAI and refuses, which is the upstream's 400 reaching the client.
    const res = await post(deepseek({ safe_prompt: true }));
    assert.equal(sent('openai').safe_prompt, true);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /safe_prompt/);
    const w = warningsOf(await whole(ask('openai', { safe_prompt: true })));
    assert.equal(sent('openai').safe_prompt, undefined);
    assert.ok(
      w.some((x) => x.includes('safe_prompt')),
      JSON.stringify(w),
    );
  });
});

/** The answer's text, from its chunks. */
function textOf(chunks: Json[]): string {
  return chunks.map((c) => (c.choices as Array<{ delta: { content?: string } }>)[0]?.delta?.content ?? '').join('');
}

describe('warnings follow the upstream that answers', () => {
  const prediction = { type: 'content', content: 'x' };

  // [[die:1]]: the upstream accepts (2xx, its opening frame), then drops before any content.
  test('an Anthropic leg that fails before any content leaves no warning; the OpenAI fallback has none', async () => {
    stack.anthropic.failNext('[[die:1]]');
    const chunks = await streamed(ask('anthropic', { prediction, models: [MODELS.openai] }));
    assert.match(textOf(chunks), /OpenAI emulator/);
    assert.deepEqual(streamWarnings(chunks).warnings, []);
  });

  test('an OpenAI leg that fails before any content is replaced by Anthropic, whose warnings are shown', async () => {
    stack.openai.failNext('[[die:1]]');
    const chunks = await streamed(ask('openai', { prediction, models: [MODELS.anthropic] }));
    assert.match(textOf(chunks), /Anthropic emulator/);
    const s = streamWarnings(chunks);
    assert.equal(s.at, 0);
    assert.ok(
      s.warnings.some((w) => w.includes('prediction')),
      JSON.stringify(s.warnings),
    );
  });
});

describe('the options are validated as their owners define them', () => {
  const bad: Array<[string, unknown, string]> = [
    ['service_tier', 'turbo', 'service_tier'],
    ['metadata', { a: 1 }, 'metadata.a'],
    ['metadata', Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])), 'metadata'],
    ['prediction', { type: 'text', content: 'x' }, 'prediction.type'],
    ['verbosity', 'loud', 'verbosity'],
    ['modalities', ['smell'], 'modalities[0]'],
    ['plugins', [{ enabled: true }], 'plugins[0].id'],
    ['transforms', ['squash'], 'transforms[0]'],
    ['preset', 7, 'preset'],
  ];
  for (const [field, value, param] of bad) {
    test(`${field}: ${JSON.stringify(value).slice(0, 40)} is a 400 naming ${param}`, async () => {
      const res = await post(ask('openai', { [field]: value }));
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { metadata: { param: string } } }).error.metadata.param, param);
    });
  }
});
