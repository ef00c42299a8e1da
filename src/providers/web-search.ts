/**
 * The chat door's `web_search_options` (OpenAI's shape, validated by the door) as the adapters that
 * translate it read it, and each protocol's native equivalent:
 *
 * - Anthropic: the `web_search` server tool (`web_search_20250305`,
 *   https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool). OpenAI's
 *   `user_location.approximate` is Anthropic's `user_location` (the same four fields, flat).
 *   `search_context_size` has no like-named setting: its documented equivalent is how much search
 *   the model may do, `max_uses` — `low` is one search; `medium` (OpenAI's default) and `high` leave
 *   Anthropic's default (the model searches as often as it needs).
 * - Gemini: the `google_search` tool (https://ai.google.dev/gemini-api/docs/google-search), which
 *   takes no location and no size: those are dropped with a warning.
 *
 * What the searches cost is charged from what the answer reports (Usage.webSearchRequests), at
 * the catalog's prices (catalog/build.ts priceServerTools).
 */

export interface WebSearchLocation {
  city?: string;
  region?: string;
  country?: string;
  timezone?: string;
}

export interface WebSearchRequest {
  contextSize?: 'low' | 'medium' | 'high';
  location?: WebSearchLocation;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The options as the door validated them; undefined when the request asks for no web search. */
export function readWebSearch(options: unknown): WebSearchRequest | undefined {
  if (!options || typeof options !== 'object') return undefined;
  const o = options as { search_context_size?: unknown; user_location?: { approximate?: Record<string, unknown> } | null };
  const size = o.search_context_size;
  const approx = o.user_location?.approximate;
  const location: WebSearchLocation = {};
  for (const k of ['city', 'region', 'country', 'timezone'] as const) {
    const v = text(approx?.[k]);
    if (v !== undefined) location[k] = v;
  }
  return {
    ...(size === 'low' || size === 'medium' || size === 'high' ? { contextSize: size } : {}),
    ...(Object.keys(location).length > 0 ? { location } : {}),
  };
}
