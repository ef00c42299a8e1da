/**
 * Traces: a local OTLP/HTTP receiver (node:http) collects what the gateway exports. A request
 * that carries a `traceparent` joins its trace; each upstream attempt is a GenAI client span whose
 * id reaches the upstream in `traceparent`. Also: the metrics port of its own.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import type { Emulator } from '../emulators/common.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string } }>;
  status: { code: number; message?: string };
}

const received: Array<{ path: string; contentType: string; service: string; spans: OtlpSpan[] }> = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d));
  req.on('end', () => {
    const o = JSON.parse(body) as {
      resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
    };
    for (const rs of o.resourceSpans) {
      const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      const spans = rs.scopeSpans.flatMap((s) => s.spans);
      received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), service, spans });
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});

let stack: Stack;
let backup: Emulator;

before(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  backup = await startOpenAIEmulator({ name: 'Backup emulator' });
  stack = await startStack({
    env: { BACKUP_BASE_URL: `${backup.url}/v1` },
    yaml: `
tracing: { endpoint: "http://127.0.0.1:${port}", serviceName: freeway-test }
metrics: { port: 0 }
providers:
  backup:
    type: openai-compatible
    name: Backup
    baseUrl: \${BACKUP_BASE_URL}
    apiKey: test-key
    models: [gpt-4o-mini]
models:
  test/traced:
    endpoints:
      - { provider: openai, model: gpt-4o-mini, pricing: { prompt: "0.000001", completion: "0.000001" } }
      - { provider: backup, model: gpt-4o-mini, pricing: { prompt: "0.000001", completion: "0.000001" } }
`,
  });
});
after(async () => {
  await stack?.close();
  await backup?.close();
  receiver.closeAllConnections();
  receiver.close();
});

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : undefined);
};

test('a request joins the caller trace; each upstream attempt is a GenAI span whose id goes upstream', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  stack.openai.failNext('[[error:503]]');
  const seenBefore = stack.openai.requests.length;
  const r = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
    body: JSON.stringify({
      model: 'test/traced',
      messages: [{ role: 'user', content: 'trace me' }],
      provider: { order: ['openai', 'backup'] },
    }),
  });
  assert.equal(r.status, 200);
  const body = (await r.json()) as { id: string; usage: { prompt_tokens: number; completion_tokens: number } };
  let spans: OtlpSpan[] = [];
  for (let i = 0; i < 100 && !spans.some((s) => s.kind === 2); i++) {
    await stack.gw.app.ops.tracer!.flush();
    spans = received.flatMap((x) => x.spans).filter((s) => s.traceId === traceId);
    if (!spans.some((s) => s.kind === 2)) await new Promise((res) => setImmediate(res));
  }
  assert.equal(received[0].path, '/v1/traces');
  assert.equal(received[0].contentType, 'application/json');
  assert.equal(received[0].service, 'freeway-test');
  const server = spans.find((s) => s.kind === 2)!;
  assert.ok(server, 'a server span');
  assert.equal(server.parentSpanId, callerSpan);
  assert.equal(server.name, 'POST /chat/completions');
  assert.equal(attr(server, 'http.response.status_code'), 200);
  assert.equal(attr(server, 'freeway.generation_id'), body.id);
  assert.equal(attr(server, 'gen_ai.request.model'), 'test/traced');
  assert.equal(attr(server, 'gen_ai.provider.name'), 'backup');
  assert.equal(attr(server, 'gen_ai.usage.input_tokens'), body.usage.prompt_tokens);
  assert.equal(server.status.code, 0);
  assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano));

  const attempts = spans.filter((s) => s.kind === 3);
  assert.equal(attempts.length, 2);
  const [failed, served] = attempts;
  for (const a of attempts) {
    assert.equal(a.parentSpanId, server.spanId);
    assert.equal(a.name, 'chat gpt-4o-mini');
    assert.equal(attr(a, 'gen_ai.operation.name'), 'chat');
    assert.equal(attr(a, 'gen_ai.request.model'), 'gpt-4o-mini');
  }
  assert.equal(attr(failed, 'gen_ai.provider.name'), 'openai');
  assert.equal(attr(failed, 'http.response.status_code'), 503);
  assert.equal(failed.status.code, 2);
  assert.match(failed.status.message ?? '', /503/);
  assert.equal(attr(served, 'gen_ai.provider.name'), 'backup');
  assert.equal(served.status.code, 0);
  assert.equal(attr(served, 'gen_ai.usage.output_tokens'), body.usage.completion_tokens);

  // Each upstream was called in the same trace, as the attempt's own span.
  const toOpenAI = stack.openai.requests.slice(seenBefore).find((q) => q.path.includes('/chat/completions'))!;
  assert.equal(toOpenAI.headers.traceparent, `00-${traceId}-${failed.spanId}-01`);
  const toBackup = backup.requests.find((q) => q.path.includes('/chat/completions'))!;
  assert.equal(toBackup.headers.traceparent, `00-${traceId}-${served.spanId}-01`);
});

test('a request without traceparent starts its own trace; an unsampled caller is not exported', async () => {
  const send = (headers: Record<string, string>) =>
    fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'test/traced', messages: [{ role: 'user', content: 'x' }], provider: { order: ['openai'] } }),
    }).then((r) => r.text());
  const unsampled = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  await send({ traceparent: `00-${unsampled}-bbbbbbbbbbbbbbbb-00`, 'x-request-id': 'unsampled' });
  await send({ 'x-request-id': 'fresh' });
  let fresh: OtlpSpan | undefined;
  for (let i = 0; i < 100 && !fresh; i++) {
    await stack.gw.app.ops.tracer!.flush();
    fresh = received.flatMap((x) => x.spans).find((s) => attr(s, 'freeway.request_id') === 'fresh');
    if (!fresh) await new Promise((res) => setImmediate(res));
  }
  assert.ok(fresh);
  assert.equal(fresh.parentSpanId, undefined);
  assert.match(fresh.traceId, /^[0-9a-f]{32}$/);
  assert.ok(!received.flatMap((x) => x.spans).some((s) => s.traceId === unsampled));
});

test('the metrics port serves /metrics and the probes without a token, and nothing else', async () => {
  const url = stack.gw.metricsUrl!;
  assert.ok(url);
  const m = await fetch(`${url}/metrics`);
  assert.equal(m.status, 200);
  const served = /^freeway_requests_total\{door="\/chat\/completions",model="test\/traced",provider="backup",status="200"\} 1$/m;
  assert.match(await m.text(), served);
  assert.equal((await fetch(`${url}/health/ready`)).status, 200);
  assert.equal((await fetch(`${url}/api/v1/models`)).status, 404);
  // The public port has no token configured: only the admin key may read it there.
  assert.equal((await fetch(`${stack.gw.url}/metrics`)).status, 404);
});
