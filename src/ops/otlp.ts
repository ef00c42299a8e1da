/**
 * OpenTelemetry traces, exported as OTLP/HTTP JSON (`POST <endpoint>/v1/traces`). Our own ~150
 * lines rather than the SDK: the official packages (api, sdk-trace-base, exporter, resources,
 * semantic conventions) add a dozen dependencies and a context manager on every async hop, for
 * what is here two span kinds with a fixed set of attributes.
 *
 * A request is a SERVER span (`POST /chat/completions`); each upstream attempt a CLIENT span
 * named by the GenAI semantic conventions (`chat gpt-4o-mini`, `gen_ai.*` attributes), its id
 * sent upstream in `traceparent`. An incoming `traceparent` is honoured: the request's span joins
 * the caller's trace, and an unsampled caller is not exported.
 *
 * Spans wait in a bounded buffer and leave in batches (every second, or at BATCH spans); a
 * collector that is away costs dropped spans, counted and logged once, never a slower request.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.ts';
import type { RequestFacts } from './request-facts.ts';
import type { Tracer } from './tracing.ts';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const BATCH = 512;
const MAX_BUFFER = 8_192;
const EVERY_MS = 1_000;

type Value = { stringValue: string } | { intValue: string } | { boolValue: boolean };
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 2 | 3;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Value }>;
  status: { code: 0 | 1 | 2; message?: string };
}

/** An incoming `traceparent`, when it is valid (version ff, all-zero ids are not). */
export function parseTraceparent(h: string | undefined): { traceId: string; spanId: string; sampled: boolean } | undefined {
  const m = h ? TRACEPARENT.exec(h.trim().toLowerCase()) : null;
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return undefined;
  return { traceId: m[2], spanId: m[3], sampled: (parseInt(m[4], 16) & 1) === 1 };
}

function nanos(t: number): string {
  return String(BigInt(Math.round((performance.timeOrigin + t) * 1000)) * 1000n);
}

function attrs(o: Record<string, string | number | boolean | undefined | null>): Span['attributes'] {
  const out: Span['attributes'] = [];
  for (const [key, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === '') continue;
    out.push({
      key,
      value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : { intValue: String(Math.round(v)) },
    });
  }
  return out;
}

export class OtlpTracer implements Tracer {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly serviceName: string;
  private readonly log: Logger;
  private buffer: Span[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private failing = false;
  dropped = 0;

  constructor(opts: { endpoint: string; serviceName: string; headers: Record<string, string>; log: Logger }) {
    this.url = opts.endpoint.replace(/\/+$/, '') + '/v1/traces';
    this.headers = { 'content-type': 'application/json', ...opts.headers };
    this.serviceName = opts.serviceName;
    this.log = opts.log;
  }

  begin(f: RequestFacts, req: IncomingMessage): void {
    const h = req.headers.traceparent;
    const parent = parseTraceparent(typeof h === 'string' ? h : undefined);
    f.trace = {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      ...(parent ? { parentSpanId: parent.spanId } : {}),
      sampled: parent?.sampled ?? true,
      attempts: [],
    };
  }

  end(f: RequestFacts, status: number): void {
    const t = f.trace;
    if (!t?.sampled) return;
    const now = performance.now();
    const r = f.record;
    const operation = f.route === '/embeddings' ? 'embeddings' : 'chat';
    t.attempts.forEach((a, i) => {
      const last = i === t.attempts.length - 1;
      const errorType = a.errorType ?? (last && r?.error ? 'upstream' : undefined);
      this.push({
        traceId: t.traceId,
        spanId: a.spanId,
        parentSpanId: t.spanId,
        name: `${operation} ${a.upstreamModel}`,
        kind: 3,
        startTimeUnixNano: nanos(a.start),
        endTimeUnixNano: nanos(a.end ?? now),
        attributes: attrs({
          'gen_ai.operation.name': operation,
          'gen_ai.provider.name': a.provider,
          'gen_ai.request.model': a.upstreamModel,
          'freeway.model': a.model,
          'error.type': errorType,
          'http.response.status_code': a.status,
          ...(last && r && !a.errorType
            ? {
                'gen_ai.response.model': r.upstreamModel,
                'gen_ai.response.id': r.upstreamId,
                'gen_ai.usage.input_tokens': r.tokensPrompt,
                'gen_ai.usage.output_tokens': r.tokensCompletion,
                'gen_ai.response.finish_reasons': r.finishReason ?? undefined,
              }
            : {}),
        }),
        status: errorType ? { code: 2, ...(a.message ? { message: a.message.slice(0, 500) } : {}) } : { code: 0 },
      });
    });
    const asked = f.generation && f.generation.askedAs.size > 0 ? [...f.generation.askedAs.values()][0] : undefined;
    const error = status >= 500 || f.errorType !== undefined || Boolean(r?.error);
    this.push({
      traceId: t.traceId,
      spanId: t.spanId,
      ...(t.parentSpanId ? { parentSpanId: t.parentSpanId } : {}),
      name: `${f.method} ${f.route}`,
      kind: 2,
      startTimeUnixNano: nanos(f.startedAt),
      endTimeUnixNano: nanos(now),
      attributes: attrs({
        'http.request.method': f.method,
        'http.route': f.route,
        'http.response.status_code': status,
        'freeway.request_id': f.requestId,
        'freeway.generation_id': f.generation?.id,
        'freeway.account': f.key?.accountId,
        'gen_ai.operation.name': f.generation ? operation : undefined,
        'gen_ai.request.model': asked,
        'gen_ai.response.model': r?.model,
        'gen_ai.provider.name': r?.providerId,
        'gen_ai.usage.input_tokens': r?.tokensPrompt,
        'gen_ai.usage.output_tokens': r?.tokensCompletion,
        'error.type': f.errorType ?? (r?.error ? 'upstream' : status >= 500 ? String(status) : undefined),
      }),
      status: { code: error ? 2 : 0 },
    });
  }

  private push(s: Span): void {
    if (this.buffer.length >= MAX_BUFFER) {
      this.dropped++;
      return;
    }
    this.buffer.push(s);
    if (this.buffer.length >= BATCH) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), EVERY_MS);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return this.sending;
    const spans = this.buffer;
    this.buffer = [];
    this.sending = this.sending.then(() => this.send(spans));
    return this.sending;
  }

  private async send(spans: Span[]): Promise<void> {
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: attrs({ 'service.name': this.serviceName }) },
          scopeSpans: [{ scope: { name: 'freeway' }, spans }],
        },
      ],
    });
    try {
      const r = await fetch(this.url, { method: 'POST', headers: this.headers, body, signal: AbortSignal.timeout(10_000) });
      await r.arrayBuffer().catch(() => undefined);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      if (this.failing) this.log.info(`traces: the collector at ${this.url} accepts spans again`);
      this.failing = false;
    } catch (err) {
      this.dropped += spans.length;
      const why = (err as Error).message;
      if (!this.failing) this.log.warn(`traces: could not export ${spans.length} spans to ${this.url} (${why}); dropping until it answers`);
      this.failing = true;
    }
  }
}
