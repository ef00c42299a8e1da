/**
 * Operations seen from outside: real requests through a real gateway, then the access lines and
 * upstream-failure lines parsed from the JSON log, and /metrics scraped and its numbers checked.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MemoryHealth } from '../../src/router/health/memory-health.ts';
import { readFileSync } from 'node:fs';
import { createLogger } from '../../src/log.ts';
import { prettyLine } from '../../src/log-pretty.ts';
import { ADMIN_KEY, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import type { Emulator } from '../emulators/common.ts';

const YAML = `
metrics:
  token: metrics-token-0123456789
providers:
  backup:
    type: openai-compatible
    name: Backup
    baseUrl: \${BACKUP_BASE_URL}
    apiKey: test-key
    models: [gpt-4o-mini]
models:
  test/ops:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        pricing: { prompt: "0.000001", completion: "0.000002" }
      - provider: backup
        model: gpt-4o-mini
        pricing: { prompt: "0.000001", completion: "0.000002" }
`;

let stack: Stack;
let backup: Emulator;
const lines: Array<Record<string, unknown>> = [];

before(async () => {
  backup = await startOpenAIEmulator({ name: 'Backup emulator' });
  const destination = { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) };
  const log = createLogger('debug', { format: 'json', destination });
  stack = await startStack({ yaml: YAML, env: { BACKUP_BASE_URL: `${backup.url}/v1` }, log });
});
// Tests fail endpoints on purpose: each starts with a clean health record, so no circuit opens.
beforeEach(() => {
  if (stack) stack.gw.app.health = new MemoryHealth();
});
after(async () => {
  await stack?.close();
  await backup?.close();
});

async function chat(content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'test/ops', messages: [{ role: 'user', content }], provider: { order: ['openai', 'backup'] }, ...extra }),
  });
}

async function scrape(token = 'metrics-token-0123456789'): Promise<string> {
  const r = await fetch(`${stack.gw.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  return r.text();
}

/** The value of one series (labels given in any order), or 0 when absent. */
function value(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && line.split(' ')[0] !== name) continue;
    const m = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return 0;
}

/** Waits until the access line of `reqId` is written (the response closes just after the client has it). */
async function accessLine(reqId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const l = lines.find((x) => x.msg === 'request' && x.req_id === reqId);
    if (l) return l;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`no access line for ${reqId}`);
}

describe('access lines', () => {
  test('a served request writes one JSON line with who, what, how long and what it cost', async () => {
    const r = await chat('hello', {}, { 'x-request-id': 'req-ops-1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-request-id'), 'req-ops-1');
    const body = (await r.json()) as { id: string; usage: { prompt_tokens: number; completion_tokens: number } };
    const l = await accessLine('req-ops-1');
    assert.equal(lines.filter((x) => x.req_id === 'req-ops-1' && x.msg === 'request').length, 1);
    assert.equal(l.level, 'info');
    assert.equal(l.door, '/chat/completions');
    assert.equal(l.status, 200);
    assert.equal(l.gen_id, body.id);
    assert.equal(l.model_asked, 'test/ops');
    assert.equal(l.model, 'test/ops');
    assert.equal(l.provider, 'openai');
    assert.equal(l.key_name, 'test');
    assert.equal(l.account, 'default');
    assert.equal(typeof l.key, 'string');
    assert.equal((l.key as string).length, 12);
    assert.ok(!JSON.stringify(l).includes(stack.key), 'the key itself is never logged');
    assert.equal(l.tokens_in, body.usage.prompt_tokens);
    assert.equal(l.tokens_out, body.usage.completion_tokens);
    // 1e-6 per prompt token, 2e-6 per completion token, as an exact decimal string.
    const nanos = body.usage.prompt_tokens * 1000 + body.usage.completion_tokens * 2000;
    assert.equal(l.cost_usd, `0.${String(nanos).padStart(9, '0')}`);
    assert.equal(typeof l.ms, 'number');
    assert.equal(typeof l.ttft_ms, 'number');
  });

  test('an upstream failure: a WARN line with the provider status and words, never its key; the access line counts the retry', async () => {
    stack.openai.failNext('[[error:502]]');
    const r = await chat('fall back please', {}, { 'x-request-id': 'req-ops-2' });
    assert.equal(r.status, 200);
    const l = await accessLine('req-ops-2');
    assert.equal(l.provider, 'backup');
    assert.equal(l.upstream_failures, 1);
    assert.equal(l.retries, 1);
    const fail = lines.find((x) => x.msg === 'upstream failed' && x.req_id === 'req-ops-2');
    assert.ok(fail, 'an upstream failure line');
    assert.equal(fail.level, 'warn');
    assert.equal(fail.provider, 'openai');
    assert.equal(fail.provider_status, 502);
    assert.equal(fail.gen_id, l.gen_id);
    assert.match(String(fail.error), /502/);
    assert.ok(!JSON.stringify(lines).includes(stack.openai.apiKey));
  });

  test('every endpoint failing: one failure line each, an error access line with the error type', async () => {
    stack.openai.failNext('[[error:503]]');
    backup.failNext('[[error:503]]');
    const r = await chat('all down', {}, { 'x-request-id': 'req-ops-3' });
    assert.equal(r.status, 503);
    const l = await accessLine('req-ops-3');
    assert.equal(l.status, 503);
    assert.equal(l.level, 'warn');
    assert.equal(l.error_type, 'provider_overloaded');
    assert.equal(l.upstream_failures, 2);
    assert.equal(lines.filter((x) => x.msg === 'upstream failed' && x.req_id === 'req-ops-3').length, 2);
  });

  test('a bad request is logged with its error type and no generation', async () => {
    const r = await chat('x', { temperature: 'hot' }, { 'x-request-id': 'req-ops-4' });
    assert.equal(r.status, 400);
    const l = await accessLine('req-ops-4');
    assert.equal(l.error_type, 'invalid_request');
    assert.equal(l.level, 'info');
  });

  test('a stream and an Anthropic Messages request: one access line each, with the door, tokens and time to first token', async () => {
    const r = await chat('stream me', { stream: true, stream_options: { include_usage: true } }, { 'x-request-id': 'req-ops-5' });
    assert.equal(r.status, 200);
    const text = await r.text();
    const l = await accessLine('req-ops-5');
    assert.equal(l.door, '/chat/completions');
    assert.equal(l.status, 200);
    assert.equal(l.provider, 'openai');
    assert.ok((l.tokens_out as number) > 0);
    assert.ok(text.includes(`"completion_tokens":${l.tokens_out as number}`));
    assert.equal(typeof l.ttft_ms, 'number');
    const m = await fetch(`${stack.baseURL}/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': stack.key,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-request-id': 'req-ops-6',
      },
      body: JSON.stringify({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(m.status, 200);
    const answer = (await m.json()) as { usage: { output_tokens: number } };
    const a = await accessLine('req-ops-6');
    assert.equal(a.door, '/messages');
    assert.equal(a.provider, 'anthropic');
    assert.equal(a.model_asked, 'anthropic/claude-sonnet-4-5');
    assert.equal(a.tokens_out, answer.usage.output_tokens);
  });

  test('a stream whose upstream dies mid-way: a failure line marked mid_stream, and an access line with the in-band error', async () => {
    stack.openai.failNext('[[die:3]]');
    const r = await chat('die in the middle', { stream: true }, { 'x-request-id': 'req-ops-7' });
    assert.equal(r.status, 200);
    await r.text();
    const l = await accessLine('req-ops-7');
    const fail = lines.find((x) => x.msg === 'upstream failed' && x.req_id === 'req-ops-7');
    assert.ok(fail, 'an upstream failure line');
    assert.equal(fail.provider, 'openai');
    assert.equal(fail.mid_stream, true);
    assert.equal(l.upstream_failures, 1);
    assert.equal(l.status, 200);
    assert.equal(l.provider, 'openai');
    assert.equal(l.error_type, 'upstream');
    assert.ok(l.error);
  });

  test('the pretty format is one readable line', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-01-02T03:04:05.678Z', msg: 'request', status: 200, door: '/x y' });
    const out = prettyLine(line, false);
    assert.equal(out, '03:04:05.678 INFO  request status=200 door="/x y"\n');
  });
});

describe('/metrics', () => {
  test('is 404 without the metrics token, and open to it and to the admin key', async () => {
    assert.equal((await fetch(`${stack.gw.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${stack.gw.url}/metrics`, { headers: { authorization: `Bearer ${stack.key}` } })).status, 404);
    await scrape(ADMIN_KEY);
  });

  test('counts requests, errors, upstream failures, tokens and cost after real requests', async () => {
    const before = await scrape();
    const ok = { door: '/chat/completions', model: 'test/ops', provider: 'openai', status: '200' };
    const res = (await (await chat('count me')).json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    stack.openai.failNext('[[error:502]]');
    assert.equal((await chat('count my fallback')).status, 200);
    stack.openai.failNext('[[error:503]]');
    backup.failNext('[[error:503]]');
    assert.equal((await chat('count my failure')).status, 503);
    // The last response's metrics are counted when it closes, just after the client has it.
    let after = await scrape();
    const failed = { ...ok, provider: '', status: '503' };
    for (let i = 0; i < 50 && value(after, 'freeway_requests_total', failed) === value(before, 'freeway_requests_total', failed); i++) {
      after = await scrape();
    }
    const diff = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    assert.equal(diff('freeway_requests_total', ok), 1);
    assert.equal(diff('freeway_requests_total', { ...ok, provider: 'backup' }), 1);
    assert.equal(diff('freeway_requests_total', { door: '/chat/completions', model: 'test/ops', provider: '', status: '503' }), 1);
    const overloaded = { door: '/chat/completions', model: 'test/ops', error_type: 'provider_overloaded' };
    assert.equal(diff('freeway_request_errors_total', overloaded), 1);
    assert.equal(diff('freeway_upstream_failures_total', { provider: 'openai', model: 'test/ops', status: '502' }), 1);
    assert.equal(diff('freeway_upstream_failures_total', { provider: 'openai', model: 'test/ops', status: '503' }), 1);
    assert.equal(diff('freeway_upstream_failures_total', { provider: 'backup', model: 'test/ops', status: '503' }), 1);
    assert.equal(diff('freeway_fallbacks_total', { door: '/chat/completions' }), 1);
    assert.equal(diff('freeway_tokens_total', { model: 'test/ops', provider: 'openai', kind: 'prompt' }), res.usage.prompt_tokens);
    assert.equal(diff('freeway_tokens_total', { model: 'test/ops', provider: 'openai', kind: 'completion' }), res.usage.completion_tokens);
    const usd = (res.usage.prompt_tokens * 1000 + res.usage.completion_tokens * 2000) / 1e9;
    assert.ok(Math.abs(diff('freeway_cost_usd_total', { model: 'test/ops', provider: 'openai' }) - usd) < 1e-12);
    assert.equal(diff('freeway_request_duration_seconds_count', { door: '/chat/completions', model: 'test/ops', provider: 'openai' }), 1);
    const served = { door: '/chat/completions', model: 'test/ops', provider: 'openai' };
    assert.equal(diff('freeway_time_to_first_token_seconds_count', served), 1);
  });

  test('reports endpoint circuits, the store, holds, the queue and the process', async () => {
    const text = await scrape();
    assert.equal(value(text, 'freeway_endpoint_circuit_state', { endpoint: 'backup:gpt-4o-mini', provider: 'backup' }), 0);
    assert.match(text, /^freeway_endpoint_circuit_state\{endpoint="openai:gpt-4o-mini",provider="openai"\} [012]$/m);
    assert.equal(value(text, 'freeway_store_up', {}), 1);
    assert.equal(value(text, 'freeway_holds_outstanding', {}), 0);
    assert.equal(value(text, 'freeway_queue_depth', {}), 0);
    assert.doesNotMatch(text, /^freeway_redis_up /m, 'no Redis configured, no series');
    assert.ok(value(text, 'process_cpu_seconds_total', {}) > 0);
  });

  test('the Grafana dashboard uses only metrics the gateway exports', async () => {
    const dashboard = readFileSync(new URL('../../dashboards/grafana-freeway.json', import.meta.url), 'utf8');
    const used = new Set([...dashboard.matchAll(/\b((?:freeway|process|nodejs)_\w+)/g)].map((m) => m[1].replace(/_bucket$/, '')));
    assert.ok(used.size >= 10);
    const text = await scrape();
    // Redis is not configured here, so its gauge is absent by design.
    const missing = [...used].filter((n) => n !== 'freeway_redis_up' && !new RegExp(`^# TYPE ${n} `, 'm').test(text));
    assert.deepEqual(missing, []);
  });
});
