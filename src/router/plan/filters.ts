/**
 * The route planner's hard filters: why an endpoint cannot serve a request (provider allow and
 * deny lists, data policy, quantization, max_price, the capabilities the request needs,
 * `require_parameters`), each with a reason, and the 404 that says what left nothing.
 */
import { withFee } from '../../accounting/billing.ts';
import { formatScaled } from '../../spec/money.ts';
import type { Modality } from '../../catalog/types.ts';
import type { Candidate } from '../types.ts';
import type { ProviderInstance } from '../../providers/types.ts';
import type { RouteNeeds } from './needs.ts';
import { supportedParameters } from './parameters.ts';
import type { RoutePreferences } from './preferences.ts';

/** Why an endpoint was left out, in pipeline order: the 404's message names the last stage anything survived to. */
export const STAGES = [
  'price_unknown',
  'provider',
  'data_policy',
  'quantization',
  'max_price',
  'tools',
  'structured_outputs',
  'image_input',
  'file_input',
  'audio_input',
  'max_tokens',
  'context_length',
  'require_parameters',
  'health',
  'order',
] as const;
export type Stage = (typeof STAGES)[number];

export interface Left {
  stage: Stage;
  reason: string;
}
/** Whether `slug` (from order/only/ignore) names this provider: its id, its display name, or an id prefix `slug/…`. */
export function providerMatches(p: Pick<ProviderInstance, 'id' | 'name'>, slug: string): boolean {
  const s = slug.toLowerCase();
  const id = p.id.toLowerCase();
  return s === id || s === p.name.toLowerCase() || id.startsWith(`${s}/`);
}
/** `limit` (a JS number, decimal) × 10^-shift as an exact comparison with an integer `femto`. */
function exceeds(femto: bigint, limit: number, shift: number): boolean {
  const m = /^(\d+)(?:\.(\d+))?(?:e([-+]?\d+))?$/.exec(String(limit));
  if (!m) return false;
  const digits = BigInt(m[1] + (m[2] ?? ''));
  const exp = Number(m[3] ?? 0) - (m[2] ?? '').length + shift;
  return exp >= 0 ? femto > digits * 10n ** BigInt(exp) : femto * 10n ** BigInt(-exp) > digits;
}

const perMillion = (femto: bigint) => `$${formatScaled(femto, 9)}/M`;
const perUnit = (femto: bigint) => `$${formatScaled(femto, 15)}`;

const MODALITY_STAGE: Array<[keyof RouteNeeds, Modality, Stage]> = [
  ['images', 'image', 'image_input'],
  ['files', 'file', 'file_input'],
  ['audio', 'audio', 'audio_input'],
];

/** Every hard filter the endpoint fails, in pipeline order. */
export function hardFilters(c: Candidate, needs: RouteNeeds, prefs: RoutePreferences, markupBp: number): Left[] {
  const { model, endpoint: e } = c;
  const out: Left[] = [];
  const p = e.provider;
  if (e.unpriced)
    out.push({ stage: 'price_unknown', reason: 'no price is known or configured for it (the operator sets pricing, or free: true)' });
  if (prefs.only && prefs.only.length > 0 && !prefs.only.some((s) => providerMatches(p, s))) {
    out.push({ stage: 'provider', reason: 'provider not in provider.only' });
  }
  if (prefs.ignore?.some((s) => providerMatches(p, s))) out.push({ stage: 'provider', reason: 'provider in provider.ignore' });
  if (prefs.dataCollection === 'deny' && e.dataCollection === 'allow') {
    out.push({ stage: 'data_policy', reason: 'provider may store or train on prompts (data_collection: deny)' });
  }
  if (prefs.zdr && e.dataCollection === 'allow') {
    out.push({ stage: 'data_policy', reason: 'provider may retain prompts (zdr)' });
  }
  if (prefs.quantizations && prefs.quantizations.length > 0) {
    const q = (e.quantization ?? 'unknown').toLowerCase();
    if (!prefs.quantizations.includes(q)) out.push({ stage: 'quantization', reason: `quantization ${q} not in provider.quantizations` });
  }
  const max = prefs.maxPrice;
  if (max) {
    const fee = (f: bigint) => withFee(f, markupBp);
    const checks: Array<[string, number | undefined, bigint, number, (f: bigint) => string]> = [
      ['prompt', max.prompt, fee(e.pricing.prompt), 9, perMillion],
      ['completion', max.completion, fee(e.pricing.completion), 9, perMillion],
      ['request', max.request, fee(e.pricing.request ?? 0n), 15, perUnit],
      ['image', needs.images ? max.image : undefined, fee(e.pricing.image ?? 0n), 15, perUnit],
    ];
    for (const [name, limit, femto, shift, show] of checks) {
      if (limit !== undefined && exceeds(femto, limit, shift)) {
        const asked = shift === 9 ? `$${limit}/M` : `$${limit}`;
        out.push({ stage: 'max_price', reason: `${name} price ${show(femto)} exceeds max_price.${name} ${asked}` });
      }
    }
  }
  if (needs.tools && !e.supportsTools) out.push({ stage: 'tools', reason: 'does not support tool use' });
  if (needs.jsonSchema && !e.supportsStructuredOutputs) {
    out.push({ stage: 'structured_outputs', reason: 'does not support structured outputs (json_schema)' });
  }
  for (const [need, modality, stage] of MODALITY_STAGE) {
    if (needs[need] && !model.inputModalities.includes(modality)) out.push({ stage, reason: `model does not accept ${modality} input` });
  }
  const maxOut = e.maxOutputTokens ?? model.maxOutputTokens;
  if (needs.maxTokens !== undefined && maxOut !== null && needs.maxTokens > maxOut) {
    out.push({ stage: 'max_tokens', reason: `max_tokens ${needs.maxTokens} exceeds the endpoint's maximum output of ${maxOut} tokens` });
  }
  const context = e.contextLength ?? model.contextLength;
  if (context !== null && needs.promptTokens > context) {
    out.push({ stage: 'context_length', reason: `prompt of about ${needs.promptTokens} tokens exceeds the context length of ${context}` });
  }
  if (prefs.requireParameters && needs.parameters.size > 0) {
    const supported = new Set(supportedParameters(e));
    const missing = [...needs.parameters].filter((x) => !supported.has(x)).sort();
    if (missing.length > 0)
      out.push({ stage: 'require_parameters', reason: `does not support ${missing.join(', ')} (require_parameters)` });
  }
  return out;
}
export function noEndpoints(stage: Stage | undefined, ids: string, needs: RouteNeeds, prefs: RoutePreferences): string {
  switch (stage) {
    case 'price_unknown':
      return `${ids} has no known price, so it is not served: an operator sets its pricing (or free: true) under models: in the config.`;
    case 'provider':
      return `No allowed providers are available for the selected model${ids.includes(',') ? 's' : ''} (${ids}).`;
    case 'data_policy':
      return `No endpoints found matching your data policy for ${ids}.`;
    case 'quantization':
      return `No endpoints found for ${ids} with the requested quantizations: ${(prefs.quantizations ?? []).join(', ')}.`;
    case 'max_price':
      return `No endpoints found for ${ids} within your max_price.`;
    case 'tools':
      return 'No endpoints found that support tool use.';
    case 'structured_outputs':
      return 'No endpoints found that support structured outputs (response_format json_schema).';
    case 'image_input':
      return 'No endpoints found that support image input.';
    case 'file_input':
      return 'No endpoints found that support file input.';
    case 'audio_input':
      return 'No endpoints found that support audio input.';
    case 'max_tokens':
      return `No endpoints found that support max_tokens of ${needs.maxTokens}.`;
    case 'require_parameters':
      return 'No endpoints found that can handle the requested parameters.';
    case 'order':
      return `No endpoints found for the request with manual order: ${(prefs.order ?? []).join(', ')}.`;
    default:
      return `No endpoints found for ${ids}.`;
  }
}
