/**
 * What goes to an Anthropic upstream when the Messages door passes a request through: the
 * client's own body with the upstream's model id, less Freeway's (OpenRouter's) extensions, and
 * its output fitted to the model.
 */
import type { Obj } from '../../spec/validate.ts';

/** What `/messages` takes and `/messages/count_tokens` does not: left out of a count's body. */
const NOT_COUNTED = [
  'max_tokens',
  'stream',
  'metadata',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'service_tier',
  'container',
  'inference_geo',
];

/** OpenRouter's extensions: read (or ignored) by Freeway and removed before the body goes to Anthropic. */
const EXTENSION_FIELDS = ['provider', 'models', 'fallbacks', 'session_id', 'user', 'trace', 'route', 'plugins'] as const;

/**
 * The body for an Anthropic upstream: the client's own, with the upstream's model id, without
 * Freeway's extensions (for a count, without what only `/messages` takes), and with `max_tokens`
 * at most the model's maximum output `cap` (see fitOutput; a thinking budget that no longer fits
 * shrinks to fit under it).
 */
export function upstreamBody(body: Obj, upstreamModel: string, cap?: number, opts: { forCount?: boolean } = {}): string {
  const out: Obj = { ...body, model: upstreamModel };
  for (const k of EXTENSION_FIELDS) delete out[k];
  if (opts.forCount) for (const k of NOT_COUNTED) delete out[k];
  if (cap !== undefined && typeof out.max_tokens === 'number' && out.max_tokens > cap) {
    out.max_tokens = cap;
    const t = out.thinking;
    if (t && typeof t === 'object' && !Array.isArray(t)) {
      const thinking = t as Obj;
      if (typeof thinking.budget_tokens === 'number' && thinking.budget_tokens >= cap) {
        out.thinking = { ...thinking, budget_tokens: Math.max(1024, cap - 1) };
      }
    }
  }
  return JSON.stringify(out);
}
