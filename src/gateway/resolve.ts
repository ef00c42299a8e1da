/**
 * Candidates (a model and one of its endpoints), an unknown model's 404 with close matches, and
 * trying candidates in order with retries and fallback.
 */
import type { Catalog } from '../catalog/catalog.ts';
import { presetsServing } from '../catalog/unserved.ts';
import type { CatalogModel, Endpoint } from '../catalog/types.ts';
import { GatewayError } from '../spec/errors.ts';

export interface Candidate {
  model: CatalogModel;
  endpoint: Endpoint;
}

export function unknownModel(catalog: Catalog, ref: string, param = 'model'): GatewayError {
  const missing = unservedMessage(catalog, ref);
  if (missing) {
    return new GatewayError('not_found', missing.message, { metadata: { param, providers: missing.providers }, retryable: false });
  }
  const suggestions = catalog.suggest(ref);
  const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => JSON.stringify(s)).join(', ')}?` : '';
  const none = catalog.size === 0 ? ' No provider is configured: set a provider API key such as OPENAI_API_KEY.' : '';
  return new GatewayError('not_found', `${ref} is not a valid model ID.${hint}${none}`, {
    metadata: { param, suggestions },
    retryable: false,
  });
}

/**
 * A model the data knows but no configured provider serves: which providers would, and the
 * variable that configures each (the README's quick start names Claude with only an OpenAI key).
 */
function unservedMessage(catalog: Catalog, ref: string): { message: string; providers: string[] } | undefined {
  const bare = ref.replace(/:(nitro|floor|exacto|free)$/, '');
  const live = new Set(catalog.all().flatMap((m) => m.endpoints.map((e) => e.provider.id)));
  const presets = presetsServing(bare).filter((p) => !live.has(p.id) && p.keyEnv);
  if (presets.length === 0) return undefined;
  const how = presets.map((p) => `${p.name} (set ${p.keyEnv} or providers.${p.id}.apiKey)`).join(', or ');
  return {
    message: `${ref} is not served by any configured provider. It is served by ${how}; then restart Freeway.`,
    providers: presets.map((p) => p.id),
  };
}

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
