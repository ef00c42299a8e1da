/**
 * One open model on three OpenAI-compatible hosts, each listing its own realistic ids, with no
 * `models:` entry: one canonical model, fallback across its endpoints, pinned host ids; and the
 * 404 that names the key to set for a model no configured provider serves.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import { loadSettings } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway } from '../../src/start.ts';
import type { Gateway } from '../../src/start.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import type { OpenAIEmulator } from '../emulators/openai.ts';

// Each host's own ids, as its GET /models lists them: the same Llama on all three, a retired id
// the price data still knows, and a new model no data knows yet.
const LISTS = {
  groq: ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant', 'openai/gpt-oss-120b', 'brand-new-model-2027'],
  together: ['meta-llama/Llama-3.3-70B-Instruct-Turbo', 'Qwen/Qwen3-Next-80B-A3B-Instruct'],
  openrouter: ['meta-llama/llama-3.3-70b-instruct', 'openai/gpt-4o-mini', 'anthropic/claude-sonnet-4.5'],
} as const;
type Host = keyof typeof LISTS;
const HOSTS = Object.keys(LISTS) as Host[];

let gw: Gateway;
let key: string;
let dir: string;
const emu = {} as Record<Host | 'openai', OpenAIEmulator>;

async function post(body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${gw.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // any: asserting on a wire shape field by field
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

before(async () => {
  for (const h of HOSTS) emu[h] = await startOpenAIEmulator({ name: h, models: LISTS[h] });
  emu.openai = await startOpenAIEmulator();
  dir = mkdtempSync(join(tmpdir(), 'freeway-merge-'));
  const env: Record<string, string> = {
    DATABASE_URL: join(dir, 'freeway.db'),
    OPENAI_API_KEY: emu.openai.apiKey,
    OPENAI_BASE_URL: `${emu.openai.url}/v1`,
  };
  for (const h of HOSTS) {
    env[`${h.toUpperCase()}_API_KEY`] = emu[h].apiKey;
    env[`${h.toUpperCase()}_BASE_URL`] = `${emu[h].url}/v1`;
  }
  const settings = await loadSettings({ env, port: 0, cwd: dir });
  gw = await startGateway(settings, { log: createLogger('silent') });
  await gw.discovery;
  key = (await createKey(gw.app.store, { name: 't', kind: 'inference' })).key;
});

after(async () => {
  await gw.close();
  await Promise.all(Object.values(emu).map((e) => e.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('one model on three hosts, no models: entry', () => {
  test('falls back across the hosts, each sent its own id', async () => {
    emu.groq.failNext('[[error:503]]');
    emu.together.failNext('[[error:503]]');
    const before = HOSTS.map((h) => emu[h].requests.length);
    const r = await post({
      model: 'meta-llama/llama-3.3-70b-instruct',
      messages: [{ role: 'user', content: 'hello' }],
      provider: { order: ['groq', 'together', 'openrouter'] },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.provider, 'OpenRouter');
    assert.equal(r.json.model, 'meta-llama/llama-3.3-70b-instruct');
    const sent = HOSTS.map((h, i) =>
      emu[h].requests
        .slice(before[i])
        .filter((q) => q.method === 'POST')
        .map((q) => q.body.model),
    );
    assert.deepEqual(sent, [
      ['llama-3.3-70b-versatile'],
      ['meta-llama/Llama-3.3-70B-Instruct-Turbo'],
      ['meta-llama/llama-3.3-70b-instruct'],
    ]);
  });

  test("a host's own id pins that host", async () => {
    const n = emu.groq.requests.length;
    const r = await post({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'pinned' }] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.provider, 'Groq');
    assert.equal(emu.groq.requests.length, n + 1);
  });

  test('GET /models lists the model once, under its canonical id', async () => {
    const res = await fetch(`${gw.url}/api/v1/models`);
    const ids = ((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    assert.equal(ids.filter((id) => id === 'meta-llama/llama-3.3-70b-instruct').length, 1);
    const own = [
      'groq/llama-3.3-70b-versatile',
      'together/meta-llama/Llama-3.3-70B-Instruct-Turbo',
      'openrouter/meta-llama/llama-3.3-70b-instruct',
    ];
    for (const id of own) {
      assert.ok(!ids.includes(id), `${id} is an endpoint of the canonical model, not a model of its own`);
    }
    const m = gw.app.catalog.get('meta-llama/llama-3.3-70b-instruct');
    assert.deepEqual(m?.endpoints.map((e) => e.provider.id).sort(), ['groq', 'openrouter', 'together']);
  });

  test('GET /models shows the fields the data has, and null where it has none', async () => {
    const res = await fetch(`${gw.url}/api/v1/models`);
    // any: asserting on a wire shape field by field
    const data = ((await res.json()) as { data: Array<Record<string, any>> }).data;
    const mini = data.find((m) => m.id === 'openai/gpt-4o-mini')!;
    assert.equal(mini.created, Date.UTC(2024, 6, 18) / 1000);
    assert.equal(mini.knowledge_cutoff, '2024-10');
    assert.equal(mini.expiration_date, null);
    assert.equal(mini.hugging_face_id, null);
    assert.deepEqual(mini.architecture.input_modalities, ['text', 'image', 'file']);
    assert.equal(mini.name, 'OpenAI: GPT-4o-mini');
  });
});

describe('a model no configured provider serves', () => {
  test('404 names the provider and the variable to set', async () => {
    const r = await post({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    // OpenRouter serves it here: the canonical model is found through the alias.
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const g = await post({ model: 'google/gemini-3-pro-preview', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(g.status, 404);
    assert.match(g.json.error.message, /google\/gemini-3-pro-preview is not served by any configured provider/);
    assert.match(g.json.error.message, /Google AI Studio \(set GEMINI_API_KEY or providers\.google\.apiKey\)/);
    assert.deepEqual(g.json.error.metadata.providers, ['google']);
  });

  test('an id no data knows keeps the plain 404 with suggestions', async () => {
    const r = await post({ model: 'meta-llama/llama-3.3-70b-instrct', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /is not a valid model ID\. Did you mean "meta-llama\/llama-3\.3-70b-instruct"/);
  });
});

describe('discovery: the catalog is what the hosts list', () => {
  test('a retired model the price data knows is gone; a new one the data does not price is not served', async () => {
    assert.equal(gw.app.catalog.get('groq/llama3-70b-8192'), undefined, 'priced in the data, not listed by Groq');
    const m = gw.app.catalog.get('groq/brand-new-model-2027');
    assert.ok(m, 'listed by Groq');
    assert.equal(m.endpoints[0].unpriced, true);
    const r = await post({ model: 'groq/brand-new-model-2027', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /price/);
    type Listed = { data: Array<{ id: string; pricing: { prompt: string } }> };
    const listed = ((await (await fetch(`${gw.url}/api/v1/models`)).json()) as Listed).data;
    assert.equal(listed.find((x) => x.id === 'groq/brand-new-model-2027')?.pricing.prompt, '-1', 'shown as unpriced, not hidden nor free');
  });

  test('a refresh picks up a newly listed model; a failed listing keeps the last good list', async () => {
    assert.ok(!gw.app.catalog.get('qwen/qwen3-32b')?.endpoints.some((e) => e.provider.id === 'groq'));
    emu.groq.setModels([...LISTS.groq, 'qwen/qwen3-32b']);
    await gw.refreshCatalog();
    assert.ok(gw.app.catalog.get('qwen/qwen3-32b')?.endpoints.some((e) => e.provider.id === 'groq'));
    assert.ok(gw.listedModels().get('groq')?.includes('qwen/qwen3-32b'));

    emu.groq.setModels(['llama-3.1-8b-instant']);
    emu.groq.failListing(500);
    try {
      await gw.refreshCatalog();
    } finally {
      emu.groq.failListing(undefined);
    }
    assert.ok(
      gw.app.catalog.get('qwen/qwen3-32b')?.endpoints.some((e) => e.provider.id === 'groq'),
      'kept after a failed listing',
    );
    assert.ok(gw.app.catalog.get('groq/llama-3.3-70b-versatile'));

    await gw.refreshCatalog();
    assert.equal(gw.app.catalog.get('groq/llama-3.3-70b-versatile'), undefined, 'no longer listed');
    assert.ok(!gw.app.catalog.get('meta-llama/llama-3.3-70b-instruct')?.endpoints.some((e) => e.provider.id === 'groq'));
  });
});
