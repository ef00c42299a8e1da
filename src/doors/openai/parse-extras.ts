/**
 * The chat door's fields beyond the core request (providers/field-policy.ts lists them all): the
 * options meant for the model, validated as OpenAI and OpenRouter define them, and OpenRouter's own
 * extensions, which Freeway consumes — with a warning for each one it cannot honour, and a 400 for
 * a plugin that does not exist.
 */
import { UPSTREAM_OPTIONS } from '../../providers/field-policy.ts';
import type { UpstreamOption } from '../../providers/field-policy.ts';
import { consumePlugins } from '../plugins.ts';
import { arr, bool, fail, isObj, obj, oneOf, onlyKeys, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';

/** OpenAI's service tiers, and OpenRouter's `fast` (the same as `priority`). */
const SERVICE_TIERS = ['auto', 'default', 'flex', 'priority', 'scale', 'fast'] as const;
const VERBOSITY = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
const MODALITIES = ['text', 'audio', 'image'] as const;

function metadata(v: unknown, p: string): Record<string, string> {
  const o = obj(v, p);
  const entries = Object.entries(o);
  if (entries.length > 16) fail(p, 'at most 16 key-value pairs');
  for (const [k, value] of entries) {
    if (k.length > 64) fail(p, `key ${JSON.stringify(k.slice(0, 16))}... is longer than 64 characters`);
    if (str(value, `${p}.${k}`).length > 512) fail(`${p}.${k}`, 'must be at most 512 characters');
  }
  return o as Record<string, string>;
}

function prediction(v: unknown, p: string): Obj {
  const o = obj(v, p);
  oneOf(o.type, `${p}.type`, ['content'] as const);
  if (typeof o.content !== 'string') {
    arr(o.content, `${p}.content`).forEach((part, i) => {
      const q = obj(part, `${p}.content[${i}]`);
      oneOf(q.type, `${p}.content[${i}].type`, ['text'] as const);
      str(q.text, `${p}.content[${i}].text`);
    });
  }
  return o;
}

/** OpenAI's `web_search_options`, closed as OpenAI's own schema is (an unknown key is a 400 there too). */
function webSearchOptions(v: unknown, p: string): Obj {
  const o = obj(v, p);
  onlyKeys(o, p, new Set(['search_context_size', 'user_location']));
  if (o.search_context_size !== undefined) oneOf(o.search_context_size, `${p}.search_context_size`, ['low', 'medium', 'high'] as const);
  if (o.user_location !== undefined && o.user_location !== null) {
    const at = `${p}.user_location`;
    const loc = obj(o.user_location, at);
    onlyKeys(loc, at, new Set(['type', 'approximate']));
    oneOf(loc.type, `${at}.type`, ['approximate'] as const);
    const approx = obj(loc.approximate, `${at}.approximate`);
    onlyKeys(approx, `${at}.approximate`, new Set(['city', 'country', 'region', 'timezone']));
    for (const [k, value] of Object.entries(approx)) str(value, `${at}.approximate.${k}`);
  }
  return o;
}

/** How each option is validated; the value forwarded is what the client sent (after `fast` → `priority`). */
const OPTION_PARSERS: Record<Exclude<UpstreamOption, 'x-anthropic-beta'>, (v: unknown, p: string) => unknown> = {
  prediction,
  modalities: (v, p) => arr(v, p).map((m, i) => oneOf(m, `${p}[${i}]`, MODALITIES)),
  audio: (v, p) => {
    const o = obj(v, p);
    if (typeof o.voice !== 'string') obj(o.voice, `${p}.voice`);
    str(o.format, `${p}.format`);
    return o;
  },
  verbosity: (v, p) => oneOf(v, p, VERBOSITY),
  service_tier: (v, p) => {
    const tier = oneOf(v, p, SERVICE_TIERS);
    return tier === 'fast' ? 'priority' : tier;
  },
  prompt_cache_key: (v, p) => {
    const key = str(v, p);
    if (key.length > 1024) fail(p, 'must be at most 1024 characters');
    return key;
  },
  web_search_options: webSearchOptions,
  metadata,
  store: bool,
  safety_identifier: (v, p) => {
    const id = str(v, p);
    if (id.length > 64) fail(p, 'must be at most 64 characters');
    return id;
  },
  prompt_cache_retention: (v, p) => oneOf(v, p, ['in_memory', '24h'] as const),
  functions: (v, p) => arr(v, p).map((f, i) => obj(f, `${p}[${i}]`)),
  function_call: (v, p) => (typeof v === 'string' ? oneOf(v, p, ['none', 'auto'] as const) : obj(v, p)),
};

/** One option for the model, validated as the chat door takes it (for a door that maps its own field onto it). */
export function parseUpstreamOption(name: Exclude<UpstreamOption, 'x-anthropic-beta'>, v: unknown, param: string = name): unknown {
  return OPTION_PARSERS[name](v, param);
}

/**
 * The request's options for the model (body fields, and the `x-anthropic-beta` header), in the
 * door's wire names, or undefined when it has none.
 */
export function parseUpstreamOptions(body: Obj, anthropicBeta?: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const name of UPSTREAM_OPTIONS) {
    if (name === 'x-anthropic-beta') continue;
    const v = body[name];
    if (v === undefined || v === null) continue;
    out[name] = OPTION_PARSERS[name](v, name);
  }
  if (Array.isArray(out.modalities) && out.modalities.includes('audio') && out.audio === undefined) {
    fail('audio', 'required when modalities includes "audio"');
  }
  if (anthropicBeta) out['x-anthropic-beta'] = anthropicBeta;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Validates OpenRouter's extensions that Freeway consumes and returns a warning for each request it
 * cannot honour: plugins (an unknown id is a 400), `transforms`, `debug`, `preset`. `trace` asks
 * nothing of the answer (observability metadata) and is accepted silently.
 */
export function consumeExtensions(body: Obj): { warnings: string[]; webSearch: boolean } {
  const { warnings, webSearch } = consumePlugins(body, true);
  if (body.transforms !== undefined && body.transforms !== null) {
    const list = arr(body.transforms, 'transforms').map((t, i) => oneOf(t, `transforms[${i}]`, ['middle-out'] as const));
    if (list.length > 0) warnings.push('transforms ["middle-out"] is not available in Freeway; the prompt was sent whole.');
  }
  if (body.debug !== undefined && body.debug !== null) {
    const d = obj(body.debug, 'debug');
    if (d.echo_upstream_body !== undefined && bool(d.echo_upstream_body, 'debug.echo_upstream_body')) {
      warnings.push('debug.echo_upstream_body is not available in Freeway; no upstream body is echoed.');
    }
  }
  if (body.preset !== undefined && body.preset !== null) {
    const name = str(body.preset, 'preset');
    warnings.push(`preset ${JSON.stringify(name)}: Freeway has no presets; the request was served as sent.`);
  }
  if (body.trace !== undefined && body.trace !== null && !isObj(body.trace)) obj(body.trace, 'trace');
  if (body.usage !== undefined && body.usage !== null) obj(body.usage, 'usage');
  if (body.route !== undefined && body.route !== null) oneOf(body.route, 'route', ['fallback', 'sort'] as const);
  return { warnings, webSearch };
}
