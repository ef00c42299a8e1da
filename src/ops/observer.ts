/**
 * Where the gateway reports to operations: the server opens each request's facts here, the
 * gateway notes upstream failures here, and when a response closes the observer writes its access
 * line, counts its metrics and ends its span. Nothing here calls back into the gateway.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';
import { currentRequest } from './request-facts.ts';
import type { RequestFacts, UpstreamFailure } from './request-facts.ts';
import type { Tracer } from './tracing.ts';

/** Routes probed every few seconds by machines: their access lines are debug, not info. */
const QUIET = new Set(['/health', '/health/live', '/health/ready', '/metrics']);
/** A client's own request id is kept when it looks like one (bounded, no spaces or quotes). */
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Nano-dollars as an exact decimal USD string (`0.000012345`). */
export function usdString(nanos: number): string {
  const sign = nanos < 0 ? '-' : '';
  const n = Math.abs(nanos);
  return `${sign}${Math.floor(n / 1e9)}.${String(n % 1e9).padStart(9, '0')}`;
}

export class Observer {
  readonly log: Logger;
  readonly metrics: Metrics | undefined;
  readonly tracer: Tracer | undefined;

  constructor(opts: { log: Logger; metrics?: Metrics; tracer?: Tracer }) {
    this.log = opts.log;
    this.metrics = opts.metrics;
    this.tracer = opts.tracer;
  }

  /** Opens the facts of one request; its access line, metrics and span follow when `res` closes. */
  begin(req: IncomingMessage, res: ServerResponse, route: string): RequestFacts {
    const given = req.headers['x-request-id'];
    const facts: RequestFacts = {
      requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
      startedAt: performance.now(),
      method: req.method ?? 'GET',
      route,
      upstreamFailures: [],
    };
    res.setHeader('x-request-id', facts.requestId);
    this.tracer?.begin(facts, req);
    this.metrics?.inFlight.inc();
    res.once('close', () => this.end(facts, res));
    return facts;
  }

  /** One failed upstream attempt: a WARN line with the provider's own status and words, and a count. */
  upstreamFailed(u: UpstreamFailure): void {
    const f = currentRequest();
    f?.upstreamFailures.push(u);
    const attempt = f?.trace?.attempts.at(-1);
    if (attempt && attempt.end === undefined) {
      attempt.end = performance.now();
      attempt.status = u.providerStatus ?? u.status;
      attempt.errorType = u.type;
      attempt.message = u.message;
    }
    this.metrics?.upstreamFailure(u);
    if (this.log.event && this.log.enabled?.('warn') !== false) {
      this.log.event(
        'warn',
        {
          req_id: f?.requestId,
          gen_id: f?.generation?.id,
          provider: u.provider,
          model: u.model,
          upstream_model: u.upstreamModel,
          status: u.status,
          provider_status: u.providerStatus,
          error_type: u.type,
          mid_stream: u.midStream || undefined,
          error: u.message,
        },
        'upstream failed',
      );
    } else {
      this.log.warn(`upstream ${u.provider} (${u.upstreamModel}) failed with ${u.status}: ${u.message}`);
    }
  }

  private end(f: RequestFacts, res: ServerResponse): void {
    const ms = performance.now() - f.startedAt;
    // A response cut before it was complete: the client went away (nginx's 499).
    const status = res.writableFinished || res.headersSent ? res.statusCode : 499;
    this.metrics?.inFlight.dec();
    this.metrics?.request(f, status, ms / 1000);
    this.tracer?.end(f, status);
    const level = QUIET.has(f.route) ? 'debug' : status >= 500 ? 'warn' : 'info';
    if (!this.log.event || this.log.enabled?.(level) === false) return;
    this.log.event(level, accessFields(f, status, ms), 'request');
  }
}

/** The access line's fields: who asked for what, what served it, how it went, what it cost. */
export function accessFields(f: RequestFacts, status: number, ms: number): Record<string, unknown> {
  const r = f.record;
  const g = f.generation;
  const asked = g && g.askedAs.size > 0 ? [...g.askedAs.values()].join(',') : undefined;
  const ttft = r ? r.ttftMs : g?.firstTokenAt !== undefined ? Math.round(g.firstTokenAt - g.startedAt) : null;
  return {
    req_id: f.requestId,
    method: f.method,
    door: f.route,
    status,
    ms: Math.round(ms),
    gen_id: g?.id,
    key: f.key ? f.key.hash.slice(0, 12) : undefined,
    key_name: f.key?.name,
    account: f.key?.accountId ?? r?.accountId,
    model_asked: asked,
    model: r?.model,
    provider: r?.providerId,
    upstream_model: r?.upstreamModel,
    error_type: f.errorType ?? (r?.error ? 'upstream' : undefined),
    error: r?.error ?? undefined,
    // The client went away before the answer was complete (it pays for what was produced).
    cancelled: r?.cancelled || undefined,
    ttft_ms: ttft ?? undefined,
    tokens_in: r?.tokensPrompt,
    tokens_out: r?.tokensCompletion,
    cost_usd: r ? usdString(r.costNanos) : undefined,
    upstream_failures: f.upstreamFailures.length || undefined,
    retries: f.upstreamFailures.length > 0 && r && !r.error ? f.upstreamFailures.length : undefined,
    trace_id: f.trace?.traceId,
  };
}
