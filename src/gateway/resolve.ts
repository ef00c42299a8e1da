/**
 * From the model a client asked for to the endpoints to try, in order. Until the router lands,
 * the order is: each requested model (`model`, then `models[]`), and within it the catalog's
 * endpoint order (cheapest first).
 */
import type { Catalog } from '../catalog/catalog.ts';
import type { CatalogModel, Endpoint } from '../catalog/types.ts';
import { GatewayError } from '../spec/errors.ts';

export interface Candidate {
  model: CatalogModel;
  endpoint: Endpoint;
}

export function unknownModel(catalog: Catalog, ref: string, param = 'model'): GatewayError {
  const suggestions = catalog.suggest(ref);
  const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => JSON.stringify(s)).join(', ')}?` : '';
  const none = catalog.size === 0 ? ' No provider is configured: set a provider API key such as OPENAI_API_KEY.' : '';
  return new GatewayError('not_found', `${ref} is not a valid model ID.${hint}${none}`, {
    metadata: { param, suggestions },
    retryable: false,
  });
}

export function resolveCandidates(
  catalog: Catalog,
  refs: readonly string[],
  kind: CatalogModel['kind'],
): Candidate[] {
  const out: Candidate[] = [];
  for (const [i, ref] of refs.entries()) {
    const model = catalog.get(ref);
    if (!model) throw unknownModel(catalog, ref, i === 0 ? 'model' : `models[${i - 1}]`);
    if (model.kind !== kind) {
      throw new GatewayError('invalid_request', `${model.id} is ${kind === 'chat' ? 'an embedding model' : 'not an embedding model'}`, {
        metadata: { param: 'model' },
      });
    }
    for (const endpoint of model.endpoints) out.push({ model, endpoint });
  }
  return out;
}

export interface Attempt {
  provider: string;
  model: string;
  status: number;
  message: string;
}

/**
 * Tries candidates in order until one succeeds. Moves on only for retryable failures (before any
 * content reached the client, which is guaranteed here because `run` has not returned). The
 * final error is the last one, with every attempt listed in its metadata.
 */
export async function tryCandidates<T>(
  candidates: readonly Candidate[],
  signal: AbortSignal,
  run: (c: Candidate) => Promise<T>,
): Promise<{ value: T; candidate: Candidate; attempts: Attempt[] }> {
  const attempts: Attempt[] = [];
  let last: GatewayError | undefined;
  for (const c of candidates) {
    if (signal.aborted) break;
    try {
      return { value: await run(c), candidate: c, attempts };
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      attempts.push({ provider: c.endpoint.provider.id, model: c.model.id, status: err.status, message: err.message });
      last = err;
      if (!err.retryable) break;
    }
  }
  if (!last) throw new GatewayError('provider_unavailable', 'No endpoint could serve the request', { retryable: false });
  if (attempts.length > 1) last.metadata.previous_errors = attempts.slice(0, -1);
  throw last;
}
