/**
 * OpenRouter's `provider` request object → ProviderPreferences. Validation is strict, like
 * OpenRouter's: a wrong type or an unknown key is a 400 naming the field.
 */
import { arr, bool, fail, num, obj, oneOf, onlyKeys, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';
import { DEFAULT_PREFERENCES } from '../types.ts';
import type { Percentiles, ProviderPreferences } from '../types.ts';

/** OpenRouter's quantization vocabulary. An endpoint without a known quantization is `unknown`. */
export const QUANTIZATIONS = ['int4', 'int8', 'fp4', 'mxfp4', 'nvfp4', 'fp6', 'fp8', 'mxfp8', 'fp16', 'bf16', 'fp32', 'unknown'] as const;

export type Sort = NonNullable<ProviderPreferences['sort']>;

/**
 * ProviderPreferences plus the OpenRouter fields the shared type does not carry. Every extra is
 * optional, so a plain ProviderPreferences is a RoutePreferences.
 */
export interface RoutePreferences extends ProviderPreferences {
  /** `sort.partition`: `none` sorts the endpoints of all requested models together. Default `model`. */
  sortPartition?: 'model' | 'none';
  /** Soft: endpoints below these output tokens/second (any given percentile) are tried last. */
  preferredMinThroughput?: Partial<Percentiles>;
  /** Soft: endpoints above these times to first token, in SECONDS (any given percentile), are tried last. */
  preferredMaxLatency?: Partial<Percentiles>;
  /** Accepted; the catalog has no distillation data, so it does not filter. */
  enforceDistillableText?: boolean;
}

const KEYS = new Set([
  'order',
  'allow_fallbacks',
  'require_parameters',
  'data_collection',
  'zdr',
  'enforce_distillable_text',
  'only',
  'ignore',
  'quantizations',
  'sort',
  'preferred_min_throughput',
  'preferred_max_latency',
  'max_price',
  'mid_stream_failover',
]);
const SORT_KEYS = new Set(['by', 'partition']);
const PERCENTILE_KEYS = new Set(['p50', 'p75', 'p90', 'p99']);
const MAX_PRICE_KEYS = new Set(['prompt', 'completion', 'request', 'image', 'audio']);
/** `exacto` (OpenRouter's quality-first order for tool calling) leans on throughput first; it is the only signal here. */
const SORT_VALUES = ['price', 'throughput', 'latency', 'exacto'] as const;

const present = (v: unknown): boolean => v !== undefined && v !== null;

function strings(v: unknown, param: string): string[] {
  return arr(v, param).map((s, i) => str(s, `${param}[${i}]`));
}

function sortOf(v: unknown): { by: Sort; partition?: 'model' | 'none' } {
  const toSort = (s: (typeof SORT_VALUES)[number]): Sort => (s === 'exacto' ? 'throughput' : s);
  if (typeof v === 'string') return { by: toSort(oneOf(v, 'provider.sort', SORT_VALUES)) };
  const o = obj(v, 'provider.sort');
  onlyKeys(o, 'provider.sort', SORT_KEYS);
  const by = toSort(oneOf(o.by, 'provider.sort.by', SORT_VALUES));
  return present(o.partition) ? { by, partition: oneOf(o.partition, 'provider.sort.partition', ['model', 'none'] as const) } : { by };
}

function percentiles(v: unknown, param: string): Partial<Percentiles> {
  if (typeof v === 'number') return { p50: num(v, param, 0) };
  const o = obj(v, param);
  onlyKeys(o, param, PERCENTILE_KEYS);
  const out: Partial<Percentiles> = {};
  for (const k of ['p50', 'p75', 'p90', 'p99'] as const) if (present(o[k])) out[k] = num(o[k], `${param}.${k}`, 0);
  return out;
}

/** A non-negative price: a JSON number or a decimal string (`"0.5"`, `"1e-7"`), as OpenRouter's SDKs send. */
function price(v: unknown, param: string): number {
  if (typeof v === 'string') {
    if (!/^\d*\.?\d+(?:[eE][-+]?\d+)?$|^\d+\.$/.test(v.trim())) fail(param, `expected a non-negative number, got ${JSON.stringify(v)}`);
    return num(Number(v), param, 0);
  }
  return num(v, param, 0);
}

function maxPrice(v: unknown): NonNullable<ProviderPreferences['maxPrice']> {
  const o = obj(v, 'provider.max_price');
  onlyKeys(o, 'provider.max_price', MAX_PRICE_KEYS);
  const out: NonNullable<ProviderPreferences['maxPrice']> = {};
  // `audio` is accepted for compatibility; the catalog prices no audio, so it never filters.
  for (const k of ['prompt', 'completion', 'request', 'image', 'audio'] as const) {
    if (!present(o[k])) continue;
    const p = price(o[k], `provider.max_price.${k}`);
    if (k !== 'audio') out[k] = p;
  }
  return out;
}

/**
 * Validates OpenRouter's `provider` object (`null`/`undefined` → the defaults). Absent or `null`
 * fields take their defaults. Throws a 400 GatewayError naming the field (`provider.sort.by`).
 */
export function parseProviderPreferences(v: unknown): RoutePreferences {
  const out: RoutePreferences = { ...DEFAULT_PREFERENCES };
  if (!present(v)) return out;
  const o: Obj = obj(v, 'provider');
  onlyKeys(o, 'provider', KEYS);
  if (present(o.order)) out.order = strings(o.order, 'provider.order');
  if (present(o.only)) out.only = strings(o.only, 'provider.only');
  if (present(o.ignore)) out.ignore = strings(o.ignore, 'provider.ignore');
  if (present(o.quantizations)) {
    out.quantizations = arr(o.quantizations, 'provider.quantizations').map((q, i) =>
      oneOf(q, `provider.quantizations[${i}]`, QUANTIZATIONS),
    );
  }
  if (present(o.allow_fallbacks)) out.allowFallbacks = bool(o.allow_fallbacks, 'provider.allow_fallbacks');
  if (present(o.require_parameters)) out.requireParameters = bool(o.require_parameters, 'provider.require_parameters');
  if (present(o.zdr)) out.zdr = bool(o.zdr, 'provider.zdr');
  if (present(o.enforce_distillable_text))
    out.enforceDistillableText = bool(o.enforce_distillable_text, 'provider.enforce_distillable_text');
  if (present(o.mid_stream_failover)) out.midStreamFailover = bool(o.mid_stream_failover, 'provider.mid_stream_failover');
  if (present(o.data_collection)) out.dataCollection = oneOf(o.data_collection, 'provider.data_collection', ['allow', 'deny'] as const);
  if (present(o.sort)) {
    const s = sortOf(o.sort);
    out.sort = s.by;
    if (s.partition) out.sortPartition = s.partition;
  }
  if (present(o.preferred_min_throughput))
    out.preferredMinThroughput = percentiles(o.preferred_min_throughput, 'provider.preferred_min_throughput');
  if (present(o.preferred_max_latency)) out.preferredMaxLatency = percentiles(o.preferred_max_latency, 'provider.preferred_max_latency');
  if (present(o.max_price)) out.maxPrice = maxPrice(o.max_price);
  return out;
}
