/**
 * What operations learns about one HTTP request while the gateway serves it. The server opens the
 * facts (`withRequest`); the gateway notes what it knows where it knows it (the key, the
 * generation, each upstream failure, the error answered) through the `note*` functions, which
 * find the request's facts in async context, so no signature in between has to carry them.
 * Operations reads the facts once, when the response closes (access line, metrics, span).
 *
 * The flow is one way: the gateway reports facts here, and nothing here calls back into it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { GenerationRecord } from '../store/types.ts';

/** The generation being served, as far as operations needs it (the tracker is one). */
export interface GenerationFacts {
  readonly id: string;
  readonly startedAt: number;
  readonly firstTokenAt: number | undefined;
  /** catalog id → the name the client asked for. */
  readonly askedAs: ReadonlyMap<string, string>;
}

export interface UpstreamFailure {
  provider: string;
  model: string;
  upstreamModel: string;
  /** The HTTP status Freeway maps it to, and the provider's own when it answered. */
  status: number;
  providerStatus?: number;
  type: string;
  message: string;
  /** Failed after content had reached the client (a leg of a stream). */
  midStream: boolean;
}

export interface RequestFacts {
  readonly requestId: string;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  readonly method: string;
  /** The route it matched (`/chat/completions`), or `unmatched`: a bounded label. */
  route: string;
  key?: { hash: string; name: string; accountId: string };
  generation?: GenerationFacts;
  /** The generation's record, once finished. */
  record?: GenerationRecord;
  /** The error type Freeway answered with (spec/errors.ts), when it answered with one. */
  errorType?: string;
  upstreamFailures: UpstreamFailure[];
  /** W3C trace context of the request's span (set when tracing is on). */
  trace?: TraceFacts;
}

export interface TraceFacts {
  traceId: string;
  spanId: string;
  /** The caller's span, from its `traceparent`. */
  parentSpanId?: string;
  sampled: boolean;
  /** Upstream attempts, each a span of its own (the last one open is the one being called). */
  attempts: AttemptSpan[];
}

export interface AttemptSpan {
  spanId: string;
  start: number;
  end?: number;
  provider: string;
  model: string;
  upstreamModel: string;
  status?: number;
  errorType?: string;
  message?: string;
}

const storage = new AsyncLocalStorage<RequestFacts>();

export function withRequest<T>(facts: RequestFacts, fn: () => T): T {
  return storage.run(facts, fn);
}

export function currentRequest(): RequestFacts | undefined {
  return storage.getStore();
}

export function noteKey(key: { hash: string; name: string; accountId: string }): void {
  const f = storage.getStore();
  if (f) f.key = key;
}

export function noteGeneration(g: GenerationFacts): void {
  const f = storage.getStore();
  if (f) f.generation = g;
}

export function noteRecord(record: GenerationRecord): void {
  const f = storage.getStore();
  if (f) f.record = record;
}

/** An upstream attempt starts (traced requests only: it becomes a span, its id goes upstream). */
export function noteAttempt(a: { provider: string; model: string; upstreamModel: string }): void {
  const t = storage.getStore()?.trace;
  if (!t) return;
  const open = t.attempts[t.attempts.length - 1];
  if (open && open.end === undefined) open.end = performance.now();
  t.attempts.push({ spanId: randomBytes(8).toString('hex'), start: performance.now(), ...a });
}

/** The `traceparent` an upstream call carries: this request's trace, the current attempt's span. */
export function upstreamTraceparent(): string | undefined {
  const t = storage.getStore()?.trace;
  if (!t) return undefined;
  const span = t.attempts[t.attempts.length - 1]?.spanId ?? t.spanId;
  return `00-${t.traceId}-${span}-${t.sampled ? '01' : '00'}`;
}

export function noteError(err: { type: string }): void {
  const f = storage.getStore();
  if (f) f.errorType = err.type;
}
