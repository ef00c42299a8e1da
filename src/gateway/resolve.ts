/**
 * Trying candidates in order with retries and fallback.
 */
import type { Candidate } from '../router/types.ts';
import { GatewayError } from '../spec/errors.ts';

export interface Attempt {
  provider: string;
  model: string;
  status: number;
  message: string;
}

export interface TryOptions {
  /** Longest Retry-After worth waiting for before trying the same endpoint again. */
  maxRetryAfterMs?: number;
  /** How many times one endpoint is retried after a 429 with a short Retry-After. */
  retriesPerEndpoint?: number;
  /** Told about every attempt's failure (health tracking). */
  onFailure?: (c: Candidate, err: GatewayError) => void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * When every endpoint failed, the status that tells the client the most: all rate-limited → 429
 * (with the shortest Retry-After), all timed out → 504, otherwise the last failure that was not a
 * rate limit, since a 5xx says more than "try later" about why nothing answered.
 */
export function finalError(errors: readonly GatewayError[]): GatewayError {
  if (errors.every((e) => e.status === 429)) {
    const waits = errors.map((e) => e.retryAfter).filter((r): r is number => r !== undefined);
    const best = errors[errors.length - 1];
    if (waits.length > 0) best.retryAfter = Math.min(...waits);
    return best;
  }
  if (errors.every((e) => e.status === 504)) return errors[errors.length - 1];
  return [...errors].reverse().find((e) => e.status !== 429) ?? errors[errors.length - 1];
}

/**
 * Tries candidates in order until one succeeds. Moves on only for retryable failures (before any
 * content reached the client, which is guaranteed here because `run` has not returned); a 429 with
 * a short Retry-After is waited out and the same endpoint tried again first. The final error lists
 * every attempt in its metadata.
 */
export async function tryCandidates<T>(
  candidates: readonly Candidate[],
  signal: AbortSignal,
  run: (c: Candidate) => Promise<T>,
  opts: TryOptions = {},
): Promise<{ value: T; candidate: Candidate; attempts: Attempt[] }> {
  const attempts: Attempt[] = [];
  const errors: GatewayError[] = [];
  const maxWait = opts.maxRetryAfterMs ?? 0;
  outer: for (const c of candidates) {
    for (let retry = 0; ; retry++) {
      if (signal.aborted) break outer;
      try {
        return { value: await run(c), candidate: c, attempts };
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        attempts.push({ provider: c.endpoint.provider.id, model: c.model.id, status: err.status, message: err.message });
        errors.push(err);
        opts.onFailure?.(c, err);
        if (!err.retryable) break outer;
        // Only the upstream's own 429 is waited out; Freeway's queue already waited its deadline.
        const fromUpstream = err.metadata.provider_name !== undefined;
        const waitMs = fromUpstream && err.status === 429 && err.retryAfter !== undefined ? err.retryAfter * 1000 : undefined;
        if (waitMs === undefined || waitMs > maxWait || retry >= (opts.retriesPerEndpoint ?? 0)) break;
        await sleep(waitMs, signal);
      }
    }
  }
  if (errors.length === 0) throw new GatewayError('provider_unavailable', 'No endpoint could serve the request', { retryable: false });
  const final = finalError(errors);
  if (attempts.length > 1) final.metadata.previous_errors = attempts.filter((_, i) => errors[i] !== final);
  throw final;
}
