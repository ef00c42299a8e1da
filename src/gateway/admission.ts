/**
 * Rate limits on the request path: the key's requests and tokens per minute before anything else,
 * and each endpoint's concurrency and request rate around every upstream call (waiting in a fair
 * queue when the endpoint is full).
 */
import type { App } from '../app.ts';
import { endpointLimitsFor } from '../limits/limits.ts';
import type { SettleTokens } from '../limits/limits.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';
import type { StreamEvent } from '../spec/response.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import type { Candidate } from '../router/types.ts';
import type { LegSource } from './stream-generation.ts';

/**
 * Admits the request under the key's per-minute limits; the returned function corrects the token
 * count. Undefined, without a promise, when neither the key nor the defaults set a limit.
 */
export function admitKey(app: App, key: ApiKeyRecord, estimatedTokens: number): Promise<SettleTokens | undefined> | undefined {
  // The key's own limits win; the configured defaults cover keys that set none.
  const defaults = app.settings.limits.perKey;
  const l = {
    requestsPerMinute: key.requestsPerMinute ?? defaults.requestsPerMinute,
    tokensPerMinute: key.tokensPerMinute ?? defaults.tokensPerMinute,
  };
  if (l.requestsPerMinute === undefined && l.tokensPerMinute === undefined) return undefined;
  return app.limits.admitKey(key.hash, l, estimatedTokens);
}

export interface SlotOptions {
  key: ApiKeyRecord;
  signal: AbortSignal;
  /** Called while the request waits for a full endpoint (streams send keep-alives). */
  onWait?: (position: number) => void;
}

/** Waits for a slot of the endpoint (see Limits.acquireEndpoint); undefined when it has no limits. */
function acquire(app: App, c: Candidate, o: SlotOptions): Promise<() => void> | undefined {
  // No endpoint limits configured anywhere (the common case): nothing to look up.
  if (app.settings.endpointLimits.size === 0) return undefined;
  const ek = endpointKey(c.endpoint);
  const limits = endpointLimitsFor(app.settings.endpointLimits, ek, c.endpoint.provider.id);
  if (limits.maxConcurrency === undefined && limits.requestsPerMinute === undefined) return undefined;
  return app.limits.acquireEndpoint(ek, limits, {
    queueKey: o.key.hash,
    signal: o.signal,
    deadlineMs: Date.now() + app.settings.limits.queue.maxWaitMs,
    onWait: o.onWait,
  });
}

/**
 * Runs a whole (non-streamed) call inside the endpoint's slot. An endpoint without limits (the
 * common case) costs no extra asynchronous step.
 */
export function inSlot<T>(app: App, c: Candidate, o: SlotOptions, run: () => Promise<T>): Promise<T> {
  const acquiring = acquire(app, c, o);
  if (!acquiring) return run();
  return acquiring.then(async (release) => {
    try {
      return await run();
    } finally {
      release();
    }
  });
}

/** Opens a stream inside the endpoint's slot, held until the stream ends. */
export function streamInSlot<S extends LegSource>(app: App, c: Candidate, o: SlotOptions, open: () => Promise<S>): Promise<S> {
  const acquiring = acquire(app, c, o);
  return acquiring ? acquiring.then((release) => openHeld(release, open)) : open();
}

async function openHeld<S extends LegSource>(release: () => void, open: () => Promise<S>): Promise<S> {
  try {
    const source = await open();
    const s: LegSource = source;
    // The events pass through a wrapper that gives the slot back when they end: the same kind of source.
    if ('bytes' in s) return { ...s, events: releasing(s.events, release) } as LegSource as S;
    if (!('reader' in s)) return releasing(s, release) as AsyncIterable<StreamEvent> as S;
    // The slot is held until the upstream's body is done with, however that ends.
    if (s.body.destroyed) release();
    else s.body.once('close', release);
    return source;
  } catch (err) {
    release();
    throw err;
  }
}

async function* releasing(events: AsyncIterable<StreamEvent>, release: () => void): AsyncGenerator<StreamEvent> {
  try {
    yield* events;
  } finally {
    release();
  }
}
