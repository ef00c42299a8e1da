/**
 * Prometheus metrics (our own registry, prometheus.ts; one per gateway). Request metrics are
 * counted when a response closes, from its RequestFacts; the state of what the gateway depends on
 * (endpoint circuits, queues, holds, store, Redis) is read when Prometheus scrapes, through
 * `MetricSources`, so the request path pays nothing for it.
 *
 * Label values are bounded: the route is one of the route table's, model and provider ids come
 * from the catalog (never from the client's text), the status is an HTTP status.
 */
import { registerProcessMetrics } from './process-metrics.ts';
import { CONTENT_TYPE, Counter, Gauge, Histogram, Registry } from './prometheus.ts';
import type { RequestFacts, UpstreamFailure } from './request-facts.ts';

/** What the gateway lets operations read at scrape time. */
export interface MetricSources {
  /** Every endpoint in the catalog, `provider:upstream-model`, with its provider's id. */
  endpoints(): Iterable<{ key: string; provider: string }>;
  circuit(endpoint: string): 'closed' | 'open' | 'half-open';
  /** Percent of successful requests over 5 minutes; null without enough data. */
  uptime(endpoint: string): number | null;
  /** Requests waiting in endpoint queues (this process). */
  queued(): number;
  /** Credit holds not yet settled (all processes). */
  openHolds(): Promise<number>;
  storeUp(): Promise<boolean>;
  /** Undefined when no Redis is configured. */
  redisUp(): boolean | undefined;
}

const CIRCUIT = { closed: 0, 'half-open': 1, open: 2 } as const;
const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'door' | 'model' | 'provider' | 'status'>;
  private readonly errors: Counter<'door' | 'model' | 'provider' | 'error_type'>;
  private readonly latency: Histogram<'door' | 'model' | 'provider'>;
  private readonly ttft: Histogram<'door' | 'model' | 'provider'>;
  private readonly tokens: Counter<'model' | 'provider' | 'kind'>;
  private readonly cost: Counter<'model' | 'provider'>;
  private readonly upstreamCost: Counter<'model' | 'provider'>;
  private readonly upstreamFailures: Counter<'provider' | 'model' | 'status'>;
  private readonly fallbacks: Counter<'door'>;
  readonly inFlight: Gauge;

  constructor(sources: MetricSources) {
    const r = this.registry;
    registerProcessMetrics(r);
    this.requests = new Counter(r, {
      name: 'freeway_requests_total',
      help: 'HTTP requests answered, by door (route), model and provider that served, and status',
      labelNames: ['door', 'model', 'provider', 'status'],
    });
    this.errors = new Counter(r, {
      name: 'freeway_request_errors_total',
      help: 'Requests that ended in an error (an error status, or an in-band error of a stream), by error type',
      labelNames: ['door', 'model', 'provider', 'error_type'],
    });
    this.latency = new Histogram(r, {
      name: 'freeway_request_duration_seconds',
      help: 'From request to the end of its response',
      labelNames: ['door', 'model', 'provider'],
      buckets: SECONDS,
    });
    this.ttft = new Histogram(r, {
      name: 'freeway_time_to_first_token_seconds',
      help: 'From request to the first token of a generation',
      labelNames: ['door', 'model', 'provider'],
      buckets: SECONDS,
    });
    this.tokens = new Counter(r, {
      name: 'freeway_tokens_total',
      help: 'Tokens of generations, by kind: prompt, completion, cache_read, cache_write, reasoning',
      labelNames: ['model', 'provider', 'kind'],
    });
    this.cost = new Counter(r, {
      name: 'freeway_cost_usd_total',
      help: 'What keys were charged (after insurance, fee included), USD; the ledger holds the exact amounts',
      labelNames: ['model', 'provider'],
    });
    this.upstreamCost = new Counter(r, {
      name: 'freeway_upstream_cost_usd_total',
      help: 'What the upstream calls cost, USD',
      labelNames: ['model', 'provider'],
    });
    this.upstreamFailures = new Counter(r, {
      name: 'freeway_upstream_failures_total',
      help: 'Failed upstream attempts, by provider, model and the status Freeway mapped them to',
      labelNames: ['provider', 'model', 'status'],
    });
    this.fallbacks = new Counter(r, {
      name: 'freeway_fallbacks_total',
      help: 'Requests served by another attempt after an upstream failure (retry or fallback)',
      labelNames: ['door'],
    });
    this.inFlight = new Gauge(r, { name: 'freeway_requests_in_flight', help: 'Requests being answered now' });
    new Gauge(r, {
      name: 'freeway_endpoint_circuit_state',
      help: 'Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open',
      labelNames: ['endpoint', 'provider'],
      collect(g) {
        g.reset();
        for (const e of sources.endpoints()) g.set(CIRCUIT[sources.circuit(e.key)], { endpoint: e.key, provider: e.provider });
      },
    });
    new Gauge(r, {
      name: 'freeway_endpoint_uptime_ratio',
      help: 'Share of successful upstream requests over 5 minutes (429s excluded), per endpoint with enough data',
      labelNames: ['endpoint', 'provider'],
      collect(g) {
        g.reset();
        for (const e of sources.endpoints()) {
          const u = sources.uptime(e.key);
          if (u !== null) g.set(u / 100, { endpoint: e.key, provider: e.provider });
        }
      },
    });
    new Gauge(r, {
      name: 'freeway_queue_depth',
      help: 'Requests waiting for an endpoint slot in this process',
      collect(g) {
        g.set(sources.queued());
      },
    });
    new Gauge(r, {
      name: 'freeway_holds_outstanding',
      help: 'Credit holds not yet settled (all processes)',
      async collect(g) {
        g.set(await sources.openHolds().catch(() => Number.NaN));
      },
    });
    new Gauge(r, {
      name: 'freeway_store_up',
      help: 'Whether the database answers (1) or not (0)',
      async collect(g) {
        g.set((await sources.storeUp()) ? 1 : 0);
      },
    });
    // Redis is configured at start-up or never: without it, no series.
    if (sources.redisUp() !== undefined) {
      new Gauge(r, {
        name: 'freeway_redis_up',
        help: 'Whether Redis is reachable (1) or in an outage (0)',
        collect(g) {
          g.set(sources.redisUp() ? 1 : 0);
        },
      });
    }
  }

  /** Counts one answered request. */
  request(f: RequestFacts, status: number, seconds: number): void {
    const r = f.record;
    // Without a record (refused before an upstream answered), the catalog model it asked for.
    const model = r?.model ?? firstKey(f.generation?.askedAs) ?? '';
    const provider = r?.providerId ?? '';
    const door = f.route;
    const series = `${door}\0${model}\0${provider}`;
    const st = String(status);
    this.requests.add(`${series}\0${st}`, () => ({ door, model, provider, status: st }));
    const errorType = f.errorType ?? (r?.error ? 'upstream' : status >= 400 ? 'http' : undefined);
    if (errorType) this.errors.add(`${series}\0${errorType}`, () => ({ door, model, provider, error_type: errorType }));
    this.latency.observeAt(series, () => ({ door, model, provider }), seconds);
    if (!r) return;
    if (r.ttftMs !== null) this.ttft.observeAt(series, () => ({ door, model, provider }), r.ttftMs / 1000);
    const mp = `${model}\0${provider}`;
    const add = (kind: string, n: number) => n > 0 && this.tokens.add(`${mp}\0${kind}`, () => ({ model, provider, kind }), n);
    add('prompt', r.tokensPrompt);
    add('completion', r.tokensCompletion);
    add('cache_read', r.tokensCached);
    add('cache_write', r.tokensCacheWrite);
    add('reasoning', r.tokensReasoning);
    // Floats are fine for a metric (a rate on a dashboard); money itself stays integer nano-dollars.
    if (r.costNanos > 0) this.cost.add(mp, () => ({ model, provider }), r.costNanos / 1e9);
    if (r.upstreamCostNanos > 0) this.upstreamCost.add(mp, () => ({ model, provider }), r.upstreamCostNanos / 1e9);
    if (f.upstreamFailures.length > 0 && !r.error) this.fallbacks.inc({ door });
  }

  upstreamFailure(u: UpstreamFailure): void {
    this.upstreamFailures.inc({ provider: u.provider, model: u.model, status: String(u.status) });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: CONTENT_TYPE, body: await this.registry.text() };
  }
}

function firstKey(m: ReadonlyMap<string, string> | undefined): string | undefined {
  if (m) for (const k of m.keys()) return k;
  return undefined;
}
