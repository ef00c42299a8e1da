/**
 * Prometheus metrics (prom-client, one registry per gateway). Request metrics are counted when a
 * response closes, from its RequestFacts; the state of what the gateway depends on (endpoint
 * circuits, queues, holds, store, Redis) is read when Prometheus scrapes, through `MetricSources`,
 * so the request path pays nothing for it.
 *
 * Label values are bounded: the route is one of the route table's, model and provider ids come
 * from the catalog (never from the client's text), the status is an HTTP status.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
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

/**
 * A counter whose request-path update is one Map lookup and an addition: prom-client hashes and
 * validates its labels on every inc, so increments are kept here and handed to it at scrape time.
 */
class Tally<L extends string> {
  private readonly series = new Map<string, { labels: Partial<Record<L, string>>; value: number; sent: number }>();
  readonly counter: Counter<L>;

  constructor(config: { name: string; help: string; labelNames: L[]; registers: Registry[] }) {
    const series = this.series;
    this.counter = new Counter<L>({
      ...config,
      collect() {
        for (const s of series.values()) {
          if (s.value > s.sent) this.inc(s.labels, s.value - s.sent);
          s.sent = s.value;
        }
      },
    });
  }

  /** `key` identifies the label values (the caller joins them); `labels` is built on first use only. */
  add(key: string, labels: () => Partial<Record<L, string>>, n = 1): void {
    const s = this.series.get(key);
    if (s) s.value += n;
    else this.series.set(key, { labels: labels(), value: n, sent: 0 });
  }
}
const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Tally<'door' | 'model' | 'provider' | 'status'>;
  private readonly errors: Tally<'door' | 'model' | 'provider' | 'error_type'>;
  private readonly latency: Histogram<'door' | 'model' | 'provider'>;
  private readonly ttft: Histogram<'door' | 'model' | 'provider'>;
  private readonly tokens: Tally<'model' | 'provider' | 'kind'>;
  private readonly cost: Tally<'model' | 'provider'>;
  private readonly upstreamCost: Tally<'model' | 'provider'>;
  private readonly upstreamFailures: Counter<'provider' | 'model' | 'status'>;
  private readonly fallbacks: Counter<'door'>;
  readonly inFlight: Gauge;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Tally({
      name: 'freeway_requests_total',
      help: 'HTTP requests answered, by door (route), model and provider that served, and status',
      labelNames: ['door', 'model', 'provider', 'status'],
      registers,
    });
    this.errors = new Tally({
      name: 'freeway_request_errors_total',
      help: 'Requests that ended in an error (an error status, or an in-band error of a stream), by error type',
      labelNames: ['door', 'model', 'provider', 'error_type'],
      registers,
    });
    this.latency = new Histogram({
      name: 'freeway_request_duration_seconds',
      help: 'From request to the end of its response',
      labelNames: ['door', 'model', 'provider'],
      buckets: SECONDS,
      registers,
    });
    this.ttft = new Histogram({
      name: 'freeway_time_to_first_token_seconds',
      help: 'From request to the first token of a generation',
      labelNames: ['door', 'model', 'provider'],
      buckets: SECONDS,
      registers,
    });
    this.tokens = new Tally({
      name: 'freeway_tokens_total',
      help: 'Tokens of generations, by kind: prompt, completion, cache_read, cache_write, reasoning',
      labelNames: ['model', 'provider', 'kind'],
      registers,
    });
    this.cost = new Tally({
      name: 'freeway_cost_usd_total',
      help: 'What keys were charged (after insurance, fee included), USD; the ledger holds the exact amounts',
      labelNames: ['model', 'provider'],
      registers,
    });
    this.upstreamCost = new Tally({
      name: 'freeway_upstream_cost_usd_total',
      help: 'What the upstream calls cost, USD',
      labelNames: ['model', 'provider'],
      registers,
    });
    this.upstreamFailures = new Counter({
      name: 'freeway_upstream_failures_total',
      help: 'Failed upstream attempts, by provider, model and the status Freeway mapped them to',
      labelNames: ['provider', 'model', 'status'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'freeway_fallbacks_total',
      help: 'Requests served by another attempt after an upstream failure (retry or fallback)',
      labelNames: ['door'],
      registers,
    });
    this.inFlight = new Gauge({ name: 'freeway_requests_in_flight', help: 'Requests being answered now', registers });
    new Gauge({
      name: 'freeway_endpoint_circuit_state',
      help: 'Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open',
      labelNames: ['endpoint', 'provider'],
      registers,
      collect() {
        this.reset();
        for (const e of sources.endpoints()) this.set({ endpoint: e.key, provider: e.provider }, CIRCUIT[sources.circuit(e.key)]);
      },
    });
    new Gauge({
      name: 'freeway_endpoint_uptime_ratio',
      help: 'Share of successful upstream requests over 5 minutes (429s excluded), per endpoint with enough data',
      labelNames: ['endpoint', 'provider'],
      registers,
      collect() {
        this.reset();
        for (const e of sources.endpoints()) {
          const u = sources.uptime(e.key);
          if (u !== null) this.set({ endpoint: e.key, provider: e.provider }, u / 100);
        }
      },
    });
    new Gauge({
      name: 'freeway_queue_depth',
      help: 'Requests waiting for an endpoint slot in this process',
      registers,
      collect() {
        this.set(sources.queued());
      },
    });
    new Gauge({
      name: 'freeway_holds_outstanding',
      help: 'Credit holds not yet settled (all processes)',
      registers,
      async collect() {
        this.set(await sources.openHolds().catch(() => Number.NaN));
      },
    });
    new Gauge({
      name: 'freeway_store_up',
      help: 'Whether the database answers (1) or not (0)',
      registers,
      async collect() {
        this.set((await sources.storeUp()) ? 1 : 0);
      },
    });
    // Redis is configured at start-up or never: without it, no series.
    if (sources.redisUp() !== undefined) {
      new Gauge({
        name: 'freeway_redis_up',
        help: 'Whether Redis is reachable (1) or in an outage (0)',
        registers,
        collect() {
          this.set(sources.redisUp() ? 1 : 0);
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
    this.latency.observe({ door, model, provider }, seconds);
    if (!r) return;
    if (r.ttftMs !== null) this.ttft.observe({ door, model, provider }, r.ttftMs / 1000);
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
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function firstKey(m: ReadonlyMap<string, string> | undefined): string | undefined {
  if (m) for (const k of m.keys()) return k;
  return undefined;
}
