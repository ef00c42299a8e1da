/**
 * `GET /models/{author}/{slug}/endpoints` over real HTTP, against a full test stack with the route
 * mounted on its own server (routes.ts wires it separately) and an in-memory health tracker whose
 * outcomes the tests set directly.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { App } from '../../src/app.ts';
import { handleModelEndpoints } from '../../src/http/endpoints-api.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { MemoryHealth } from '../../src/router/health/index.ts';
import type { Health } from '../../src/router/types.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const YAML = `models:
  openai/gpt-4o-mini:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        quantization: fp8
      - provider: openai
        model: gpt-4o-mini
        free: true
`;

let stack: Stack;
let server: Server;
let base: string;
let health: MemoryHealth;

// any: wire-shape assertions field by field
type Json = Record<string, any>;

before(async () => {
  stack = await startStack({ yaml: YAML });
  health = new MemoryHealth({ minSamples: 1 });
  // Until App has a `health` field of its own.
  (stack.gw.app as App & { health: Health }).health = health;
  server = createHttpServer(stack.gw.app, [{ method: 'GET', path: '/models/{author}/{slug}/endpoints', handler: handleModelEndpoints }]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await health.close();
  await stack.close();
});

async function get(path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${path}`); // no authorization: the route is public
  return { status: res.status, body: (await res.json()) as Json };
}

describe('GET /models/{author}/{slug}/endpoints', () => {
  test('OpenRouter shape, prices as /models renders them, no stats yet', async () => {
    const { status, body } = await get('/models/openai/gpt-4o-mini/endpoints');
    assert.equal(status, 200);
    const d = body.data;
    assert.equal(d.id, 'openai/gpt-4o-mini');
    assert.equal(typeof d.name, 'string');
    assert.equal(typeof d.created, 'number');
    assert.equal(typeof d.description, 'string');
    assert.deepEqual(d.architecture.output_modalities, ['text']);
    assert.equal(d.endpoints.length, 1, 'the free endpoint belongs to the :free variant');
    const e = d.endpoints[0];
    assert.equal(e.model_id, 'openai/gpt-4o-mini');
    assert.equal(e.model_name, d.name);
    assert.equal(e.name, `OpenAI: ${d.name}`);
    assert.equal(e.provider_name, 'OpenAI');
    assert.equal(e.tag, 'openai');
    assert.equal(e.quantization, 'fp8');
    assert.equal(typeof e.context_length, 'number');
    assert.equal(e.max_prompt_tokens, e.context_length);
    assert.equal(typeof e.max_completion_tokens, 'number');
    assert.ok(e.supported_parameters.includes('tools'));
    assert.equal(e.status, 0);
    assert.equal(e.uptime_last_5m, null);
    assert.equal(e.uptime_last_30m, null);
    assert.equal(e.latency_last_30m, null);
    assert.equal(e.throughput_last_30m, null);
    // OpenAI caches prompt prefixes without markers, wherever a cache-read price is known.
    assert.equal(e.supports_implicit_caching, e.pricing.input_cache_read !== undefined);

    const models = (await (await fetch(`${stack.baseURL}/models`)).json()) as { data: Json[] };
    const m = models.data.find((x) => x.id === 'openai/gpt-4o-mini');
    assert.deepEqual(e.pricing, m?.pricing);
    assert.match(e.pricing.prompt, /^\d+(\.\d+)?$/);
  });

  test('the :free variant in the slug', async () => {
    const { status, body } = await get('/models/openai/gpt-4o-mini:free/endpoints');
    assert.equal(status, 200);
    assert.equal(body.data.id, 'openai/gpt-4o-mini:free');
    assert.equal(body.data.endpoints.length, 1);
    assert.equal(body.data.endpoints[0].model_id, 'openai/gpt-4o-mini:free');
    assert.equal(body.data.endpoints[0].pricing.prompt, '0');
    assert.equal(body.data.endpoints[0].quantization, null, 'unknown quantization is null');
  });

  test('uptime, latency (seconds) and throughput from health', async () => {
    const now = Date.now();
    const key = 'openai:gpt-4o-mini';
    for (let i = 1; i <= 9; i++) health.record(key, { ok: true, ttftMs: i * 100, tokensPerSecond: i * 10, at: now });
    health.record(key, { ok: false, status: 500, at: now });
    health.record(key, { ok: false, status: 429, at: now });
    const e = (await get('/models/openai/gpt-4o-mini/endpoints')).body.data.endpoints[0];
    assert.equal(e.status, 0);
    assert.equal(e.uptime_last_5m, 90);
    assert.equal(e.uptime_last_30m, 90);
    assert.deepEqual(e.latency_last_30m, { p50: 0.5, p75: 0.7, p90: 0.9, p99: 0.9 });
    assert.deepEqual(e.throughput_last_30m, { p50: 50, p75: 30, p90: 10, p99: 10 });
  });

  test('status -1 while the circuit is open', async () => {
    const key = 'openai:gpt-4o-mini';
    for (let i = 0; i < 3; i++) health.record(key, { ok: false, status: 503, at: Date.now() });
    const e = (await get('/models/openai/gpt-4o-mini/endpoints')).body.data.endpoints[0];
    assert.equal(e.status, -1);
    assert.equal(health.isAvailable(key), false, 'rendering did not take the half-open probe');
  });

  test('per-protocol details: Anthropic has no implicit caching', async () => {
    const { body } = await get('/models/anthropic/claude-sonnet-4-5/endpoints');
    const e = body.data.endpoints[0];
    assert.equal(e.tag, 'anthropic');
    assert.equal(e.supports_implicit_caching, false);
    assert.equal(e.pricing.input_cache_read, '0.0000003');
    assert.equal(e.max_completion_tokens, 64000);
  });

  test('unknown model: 404 in the error envelope; /v1 works too', async () => {
    const res = await fetch(`${base.replace('/api/v1', '/v1')}/models/nobody/nothing/endpoints`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as Json;
    assert.equal(body.error.code, 404);
    assert.match(body.error.message, /nobody\/nothing/);
  });
});
