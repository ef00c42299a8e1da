/**
 * What rate limits and endpoint capacity are configured with, and the small facts both share.
 */
import type { AcquireResult, RateStore } from './types.ts';

export const MINUTE = 60_000;

export interface KeyLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

export interface EndpointLimits {
  maxConcurrency?: number;
  requestsPerMinute?: number;
}

/** Corrects the key's tokens-per-minute charge with the real count. Once; never rejects. */
export type SettleTokens = (actualTokens: number) => Promise<void>;

/** Gives the endpoint place back. Idempotent; never throws. */
export type Release = () => void;

/**
 * An endpoint's answer decided together with the key's limits (Limits.admitKeyAt): a place, or
 * the refusal after which the request waits in the endpoint's queue (acquireEndpoint's `refused`).
 */
export type EndpointPlace =
  | {
      endpointKey: string;
      granted: true;
      release: Release;
      /** Gives back a place no upstream call used: released, and its request-rate charge refunded. Idempotent. */
      unused: () => void;
    }
  | { endpointKey: string; granted: false; refusal: Exclude<AcquireResult, { ok: true }> };

export interface AcquireEndpointOptions {
  /** Fairness: requests of one queue key (the API key hash) are served FIFO, keys round-robin. */
  queueKey: string;
  /** Absolute time (ms epoch, Date.now clock) after which waiting ends in a 429. Default: now + queue.maxWaitMs. */
  deadlineMs?: number;
  /** Aborting leaves the queue with a 429 (the client has gone). */
  signal?: AbortSignal;
  /**
   * Called with the 1-based queue position when the request starts waiting, and again every
   * `keepAliveMs` while it waits: the moment to send an SSE keep-alive comment.
   */
  onWait?: (position: number) => void;
  /** The store refused this request a moment ago (EndpointPlace): it waits without asking again first. */
  refused?: Exclude<AcquireResult, { ok: true }>;
}

export interface LimitsOptions {
  store: RateStore;
  /** From Settings.limits.queue. Defaults: 30 s, 1000 waiting per endpoint. */
  queue?: { maxWaitMs?: number; maxLength?: number };
  /** Lease of an endpoint slot; renewed every third of it while held, so a crashed process's slots return. Default 30 s. */
  leaseMs?: number;
  /** Renewal stops after this long (a release that never came); the lease then lapses. Default 1 h. */
  maxHoldMs?: number;
  /** How often onWait is called again while waiting. Default 10 s. */
  keepAliveMs?: number;
  /** Poll backoff bounds while waiting for capacity freed elsewhere. Default 25–100 ms. */
  pollMs?: { min: number; max: number };
  /**
   * Longest wait before asking again while the endpoint's request rate is the limit (the store
   * says when the window has room; this bounds clock skew between processes). Default 1 s.
   */
  ratePollMaxMs?: number;
  /** When the store fails (Redis down): admit (default) rather than fail the request. */
  failOpen?: boolean;
  onStoreError?: (err: unknown) => void;
  /** The clock of rate decisions. Default Date.now. */
  now?: () => number;
}

export const positive = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n) && n > 0;
