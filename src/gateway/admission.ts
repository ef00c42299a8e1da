/**
 * Rate limits on the request path: the key's requests and tokens per minute before anything else,
 * and each endpoint's concurrency and request rate around every upstream call (waiting in a fair
 * queue when the endpoint is full).
 */
import type { App } from '../app.ts';
import { endpointLimitsFor } from '../limits/limits.ts';
import type { EndpointLimits, EndpointPlace, Release, SettleTokens } from '../limits/limits.ts';
import type { AcquireResult } from '../limits/types.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';
import type { StreamEvent } from '../spec/response.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import type { Candidate } from '../router/types.ts';
import type { LegSource } from './stream-generation.ts';

/**
 * Admits the request under the key's per-minute limits; the returned function corrects the token
 * count. Undefined, without a promise, when neither the key nor the defaults set a limit. When the
 * endpoint the request tries first (`first`) has limits too, its place is decided in the same
 * store step (one Redis round trip for both) and left in `slot.place` for inSlot/streamInSlot.
 */
export function admitKey(
  app: App,
  key: ApiKeyRecord,
  estimatedTokens: number,
  first?: Candidate,
  slot?: SlotOptions,
): Promise<SettleTokens | undefined> | undefined {
  // The key's own limits win; the configured defaults cover keys that set none.
  const defaults = app.settings.limits.perKey;
  const l = {
    requestsPerMinute: key.requestsPerMinute ?? defaults.requestsPerMinute,
    tokensPerMinute: key.tokensPerMinute ?? defaults.tokensPerMinute,
  };
  if (l.requestsPerMinute === undefined && l.tokensPerMinute === undefined) return undefined;
  const ep = first && slot ? limitedEndpoint(app, first) : undefined;
  if (!ep || !slot) return app.limits.admitKey(key.hash, l, estimatedTokens);
  return app.limits.admitKeyAt(key.hash, l, estimatedTokens, ep.key, ep.limits).then(({ settle, place }) => {
    if (place) slot.place = place;
    return settle;
  });
}

export interface SlotOptions {
  key: ApiKeyRecord;
  signal: AbortSignal;
  /** Called while the request waits for a full endpoint (streams send keep-alives). */
  onWait?: (position: number) => void;
  /**
   * The first endpoint's answer, decided with the key's limits (admitKey): taken by the first
   * acquire of that endpoint; givePlaceBack returns it if no upstream call took it.
   */
  place?: EndpointPlace;
}

/** A place decided with the key's limits that no upstream call took (the hold failed, the client left): given back. */
export function givePlaceBack(o: SlotOptions): void {
  const place = o.place;
  if (!place) return;
  o.place = undefined;
  if (place.granted) place.unused();
}

/** The candidate's endpoint key and limits; undefined when it has none (the common case: nothing to look up). */
function limitedEndpoint(app: App, c: Candidate): { key: string; limits: EndpointLimits } | undefined {
  if (app.settings.endpointLimits.size === 0) return undefined;
  const key = endpointKey(c.endpoint);
  const limits = endpointLimitsFor(app.settings.endpointLimits, key, c.endpoint.provider.id);
  if (limits.maxConcurrency === undefined && limits.requestsPerMinute === undefined) return undefined;
  return { key, limits };
}

/**
 * A slot of the endpoint (see Limits.acquireEndpoint): the release at once when admitKey already
 * got the place, else once it is had; undefined when the endpoint has no limits.
 */
function acquire(app: App, c: Candidate, o: SlotOptions): Release | Promise<Release> | undefined {
  const ep = limitedEndpoint(app, c);
  const place = o.place;
  let refused: Exclude<AcquireResult, { ok: true }> | undefined;
  if (place) {
    o.place = undefined;
    if (place.endpointKey === ep?.key) {
      if (place.granted) return place.release;
      refused = place.refusal;
    } else if (place.granted) place.unused(); // decided for another endpoint (not tryCandidates' order): not used
  }
  if (!ep) return undefined;
  return app.limits.acquireEndpoint(ep.key, ep.limits, {
    queueKey: o.key.hash,
    signal: o.signal,
    deadlineMs: Date.now() + app.settings.limits.queue.maxWaitMs,
    onWait: o.onWait,
    refused,
  });
}

/**
 * Runs a whole (non-streamed) call inside the endpoint's slot. An endpoint without limits (the
 * common case) costs no extra asynchronous step.
 */
export function inSlot<T>(app: App, c: Candidate, o: SlotOptions, run: () => Promise<T>): Promise<T> {
  const acquiring = acquire(app, c, o);
  if (!acquiring) return run();
  if (typeof acquiring === 'function') return runHeld(acquiring, run);
  return acquiring.then((release) => runHeld(release, run));
}

async function runHeld<T>(release: Release, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } finally {
    release();
  }
}

/** Opens a stream inside the endpoint's slot, held until the stream ends. */
export function streamInSlot<S extends LegSource>(app: App, c: Candidate, o: SlotOptions, open: () => Promise<S>): Promise<S> {
  const acquiring = acquire(app, c, o);
  if (!acquiring) return open();
  if (typeof acquiring === 'function') return openHeld(acquiring, open);
  return acquiring.then((release) => openHeld(release, open));
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
