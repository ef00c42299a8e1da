/**
 * The exposition format, checked by parsing it back as Prometheus would: families with HELP and
 * TYPE, histograms' cumulative buckets ending at +Inf with _sum and _count, label values escaped.
 * Also Freeway's own registry: every metric it exposes, with its type and labels.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../../src/ops/metrics.ts';
import type { MetricSources } from '../../src/ops/metrics.ts';
import { CONTENT_TYPE, Counter, Gauge, Histogram, Registry } from '../../src/ops/prometheus.ts';
import type { RequestFacts } from '../../src/ops/request-facts.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Parsed {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

/** A strict reader of format 0.0.4: anything it does not understand fails the test. */
function parse(text: string): Parsed {
  const out: Parsed = { help: new Map(), type: new Map(), samples: [] };
  assert.ok(text.endsWith('\n'), 'the body ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      const into = kind === 'HELP' ? out.help : out.type;
      assert.ok(!into.has(name), `one ${kind} for ${name}`);
      into.set(name, kind === 'HELP' ? rest.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : rest);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest !== '') {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      assert.ok(l, `labels: ${JSON.stringify(m[2])}`);
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(l[0].length);
    }
    const v = m[3];
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v === 'NaN' ? Number.NaN : Number(v);
    assert.ok(!Number.isNaN(value) || v === 'NaN', `a number: ${v}`);
    out.samples.push({ name: m[1], labels, value });
  }
  // Every sample belongs to a family declared before it.
  for (const s of out.samples) {
    const family = [s.name, s.name.replace(/_(bucket|sum|count)$/, '')].find((n) => out.type.has(n));
    assert.ok(family, `${s.name} has a TYPE`);
    assert.ok(out.help.has(family), `${family} has a HELP`);
  }
  return out;
}

function find(p: Parsed, name: string, labels: Record<string, string>): Sample[] {
  return p.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

test('types, help and values of counters and gauges, and a callback gauge filled at scrape time', async () => {
  const r = new Registry();
  const c = new Counter(r, { name: 'a_total', help: 'with a \\ and a\nnewline', labelNames: ['x'] });
  c.inc({ x: 'one' });
  c.inc({ x: 'one' }, 2.5);
  c.add('two', () => ({ x: 'two' }), 4);
  const g = new Gauge(r, { name: 'g', help: 'plain' });
  g.inc();
  g.inc();
  g.dec();
  let calls = 0;
  new Gauge(r, {
    name: 'cb',
    help: 'filled',
    labelNames: ['k'],
    async collect(gauge) {
      gauge.reset();
      calls++;
      gauge.set(Number.NaN, { k: String(calls) });
    },
  });
  new Counter(r, { name: 'never_total', help: 'no series yet', labelNames: ['x'] });
  const p = parse(await r.text());
  assert.equal(p.type.get('a_total'), 'counter');
  assert.equal(p.type.get('g'), 'gauge');
  assert.equal(p.help.get('a_total'), 'with a \\ and a\nnewline');
  assert.equal(find(p, 'a_total', { x: 'one' })[0].value, 3.5);
  assert.equal(find(p, 'a_total', { x: 'two' })[0].value, 4);
  assert.equal(find(p, 'g', {})[0].value, 1);
  assert.equal(p.type.get('never_total'), 'counter');
  assert.equal(find(p, 'never_total', {}).length, 0, 'a labelled metric has no series until one is counted');
  assert.ok(Number.isNaN(find(p, 'cb', { k: '1' })[0].value));
  const again = parse(await r.text());
  assert.deepEqual(
    find(again, 'cb', {}).map((s) => s.labels.k),
    ['2'],
    'reset in the callback drops the previous series',
  );
  assert.throws(() => new Gauge(r, { name: 'g', help: 'twice' }));
});

test("a histogram's buckets are cumulative, end at +Inf, and agree with _count and _sum", async () => {
  const r = new Registry();
  const h = new Histogram(r, { name: 'h_seconds', help: 'h', labelNames: ['d'], buckets: [1, 0.1, 0.5] });
  for (const v of [0.05, 0.1, 0.3, 0.7, 0.7, 3]) h.observe({ d: 'a' }, v);
  h.observeAt('b', () => ({ d: 'b' }), 0.2);
  const unlabelled = new Histogram(r, { name: 'u_seconds', help: 'u', buckets: [1] });
  unlabelled.observe({}, 2);
  const p = parse(await r.text());
  assert.equal(p.type.get('h_seconds'), 'histogram');
  const buckets = find(p, 'h_seconds_bucket', { d: 'a' }).map((s) => [s.labels.le, s.value]);
  // Bounds sorted; an observation equal to a bound falls in that bound's bucket (le means ≤).
  assert.deepEqual(buckets, [
    ['0.1', 2],
    ['0.5', 3],
    ['1', 5],
    ['+Inf', 6],
  ]);
  assert.equal(find(p, 'h_seconds_count', { d: 'a' })[0].value, 6);
  assert.ok(Math.abs(find(p, 'h_seconds_sum', { d: 'a' })[0].value - 4.85) < 1e-9);
  assert.deepEqual(
    find(p, 'h_seconds_bucket', { d: 'b' }).map((s) => s.value),
    [0, 1, 1, 1],
  );
  assert.deepEqual(
    find(p, 'u_seconds_bucket', {}).map((s) => [s.labels, s.value]),
    [
      [{ le: '1' }, 0],
      [{ le: '+Inf' }, 1],
    ],
  );
  assert.equal(find(p, 'u_seconds_sum', {})[0].value, 2);
});

test('label values with quotes, backslashes and newlines are escaped and read back unchanged', async () => {
  const r = new Registry();
  const c = new Counter(r, { name: 'esc_total', help: 'e', labelNames: ['v', 'w'] });
  const nasty = 'a "quoted" \\path\\ and\na newline';
  c.inc({ v: nasty, w: '' });
  const h = new Histogram(r, { name: 'esc_seconds', help: 'e', labelNames: ['v'], buckets: [1] });
  h.observe({ v: nasty }, 0.5);
  const text = await r.text();
  assert.ok(text.includes('esc_total{v="a \\"quoted\\" \\\\path\\\\ and\\na newline",w=""} 1\n'));
  const p = parse(text);
  assert.equal(find(p, 'esc_total', { v: nasty, w: '' })[0].value, 1);
  assert.equal(find(p, 'esc_seconds_bucket', { v: nasty, le: '+Inf' })[0].value, 1);
});

const sources: MetricSources = {
  endpoints: () => [{ key: 'p:"m"', provider: 'p' }],
  circuit: () => 'half-open',
  uptime: () => 99.5,
  queued: () => 2,
  openHolds: async () => 3,
  storeUp: async () => true,
  redisUp: () => undefined,
};

test("Freeway's registry exposes its metrics and the process series with the types it always had", async () => {
  const m = new Metrics(sources);
  const facts = {
    route: '/chat/completions',
    record: {
      model: 'test/m',
      providerId: 'p',
      ttftMs: 120,
      tokensPrompt: 10,
      tokensCompletion: 5,
      tokensCached: 0,
      tokensCacheWrite: 0,
      tokensReasoning: 0,
      costNanos: 3000,
      upstreamCostNanos: 2000,
      error: null,
    },
    upstreamFailures: [{}],
  } as unknown as RequestFacts;
  m.request(facts, 200, 0.3);
  m.upstreamFailure({
    provider: 'p',
    model: 'test/m',
    upstreamModel: 'm',
    status: 502,
    type: 'upstream',
    message: 'bad gateway',
    midStream: false,
  });
  m.inFlight.inc();
  const { contentType, body } = await m.text();
  assert.equal(contentType, CONTENT_TYPE);
  const p = parse(body);
  const expected: Record<string, string> = {
    freeway_requests_total: 'counter',
    freeway_request_errors_total: 'counter',
    freeway_request_duration_seconds: 'histogram',
    freeway_time_to_first_token_seconds: 'histogram',
    freeway_tokens_total: 'counter',
    freeway_cost_usd_total: 'counter',
    freeway_upstream_cost_usd_total: 'counter',
    freeway_upstream_failures_total: 'counter',
    freeway_fallbacks_total: 'counter',
    freeway_requests_in_flight: 'gauge',
    freeway_endpoint_circuit_state: 'gauge',
    freeway_endpoint_uptime_ratio: 'gauge',
    freeway_queue_depth: 'gauge',
    freeway_holds_outstanding: 'gauge',
    freeway_store_up: 'gauge',
    process_cpu_seconds_total: 'counter',
    process_cpu_user_seconds_total: 'counter',
    process_cpu_system_seconds_total: 'counter',
    process_resident_memory_bytes: 'gauge',
    process_start_time_seconds: 'gauge',
    nodejs_eventloop_lag_p99_seconds: 'gauge',
    nodejs_heap_size_used_bytes: 'gauge',
    nodejs_heap_size_total_bytes: 'gauge',
  };
  for (const [name, type] of Object.entries(expected)) assert.equal(p.type.get(name), type, name);
  assert.equal(p.type.has('freeway_redis_up'), false);
  const served = { door: '/chat/completions', model: 'test/m', provider: 'p' };
  assert.equal(find(p, 'freeway_requests_total', { ...served, status: '200' })[0].value, 1);
  assert.deepEqual(Object.keys(find(p, 'freeway_requests_total', {})[0].labels), ['door', 'model', 'provider', 'status']);
  assert.equal(find(p, 'freeway_request_duration_seconds_bucket', { ...served, le: '0.25' })[0].value, 0);
  assert.equal(find(p, 'freeway_request_duration_seconds_bucket', { ...served, le: '0.5' })[0].value, 1);
  assert.equal(find(p, 'freeway_request_duration_seconds_bucket', served).length, 13);
  assert.equal(find(p, 'freeway_time_to_first_token_seconds_bucket', { ...served, le: '0.25' })[0].value, 1);
  assert.equal(find(p, 'freeway_tokens_total', { model: 'test/m', provider: 'p', kind: 'prompt' })[0].value, 10);
  assert.equal(find(p, 'freeway_tokens_total', { kind: 'reasoning' }).length, 0);
  assert.equal(find(p, 'freeway_cost_usd_total', { model: 'test/m' })[0].value, 3e-6);
  assert.equal(find(p, 'freeway_fallbacks_total', { door: '/chat/completions' })[0].value, 1);
  assert.equal(find(p, 'freeway_upstream_failures_total', { provider: 'p', status: '502' })[0].value, 1);
  assert.equal(find(p, 'freeway_requests_in_flight', {})[0].value, 1);
  assert.equal(find(p, 'freeway_endpoint_circuit_state', { endpoint: 'p:"m"', provider: 'p' })[0].value, 1);
  assert.equal(find(p, 'freeway_endpoint_uptime_ratio', { endpoint: 'p:"m"' })[0].value, 0.995);
  assert.equal(find(p, 'freeway_queue_depth', {})[0].value, 2);
  assert.equal(find(p, 'freeway_holds_outstanding', {})[0].value, 3);
  assert.equal(find(p, 'freeway_store_up', {})[0].value, 1);
  const cpu = (n: string) => find(p, n, {})[0].value;
  assert.ok(cpu('process_cpu_seconds_total') > 0);
  assert.ok(
    Math.abs(cpu('process_cpu_user_seconds_total') + cpu('process_cpu_system_seconds_total') - cpu('process_cpu_seconds_total')) < 1e-9,
  );
  assert.ok(cpu('process_resident_memory_bytes') > 1e6);
  assert.ok(Math.abs(cpu('process_start_time_seconds') - (Date.now() / 1000 - process.uptime())) < 2);
  if (process.platform === 'linux') {
    // This test process holds at least its stdio; the series counts what /proc lists.
    const open = cpu('process_open_fds');
    assert.ok(open >= 3 && open < cpu('process_max_fds'), `open ${open}, max ${cpu('process_max_fds')}`);
  }
});
