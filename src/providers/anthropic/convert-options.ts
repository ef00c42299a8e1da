/**
 * The chat door's options for the model (providers/field-policy.ts) on Anthropic: the ones with a
 * native equivalent translated, the rest dropped with a warning; and Anthropic's answer's service
 * tier in OpenAI's words.
 */
import { dropWarning, sortOptions } from '../field-policy.ts';
import { readWebSearch } from '../web-search.ts';
import type { MessagesRequestBody, WireWebSearchTool } from './wire-types.ts';

/**
 * Puts the translatable options on `body`; returns the `anthropic-beta` header value the request
 * asks for (OpenRouter's `x-anthropic-beta`), if any.
 */
export function applyOptions(
  options: Readonly<Record<string, unknown>> | undefined,
  body: MessagesRequestBody,
  warnings: string[],
): string | undefined {
  const { translate } = sortOptions('anthropic', options, warnings, 'Anthropic');
  const tier = translate.service_tier;
  // Anthropic's `auto` uses Priority Tier capacity when the organisation has it, else standard.
  if (tier === 'auto' || tier === 'priority') body.service_tier = 'auto';
  else if (tier === 'default') body.service_tier = 'standard_only';
  else if (typeof tier === 'string') {
    warnings.push(dropWarning(`service_tier ${JSON.stringify(tier)}`, 'Anthropic', 'served on the standard tier'));
  }
  // The end user's id for abuse detection is what Anthropic's metadata.user_id is for.
  const safety = translate.safety_identifier;
  if (typeof safety === 'string' && !body.metadata) body.metadata = { user_id: safety };
  const search = webSearchTool(translate.web_search_options);
  if (search) body.tools = [...(body.tools ?? []), search];
  const beta = translate['x-anthropic-beta'];
  return typeof beta === 'string' && beta !== '' ? beta : undefined;
}

/** `web_search_options` as Anthropic's web search server tool (providers/web-search.ts). */
function webSearchTool(options: unknown): WireWebSearchTool | undefined {
  const ws = readWebSearch(options);
  if (!ws) return undefined;
  return {
    type: 'web_search_20250305',
    name: 'web_search',
    ...(ws.contextSize === 'low' ? { max_uses: 1 } : {}),
    ...(ws.location ? { user_location: { type: 'approximate', ...ws.location } } : {}),
  };
}

/** Anthropic's `usage.service_tier` (`standard`, `priority`, `batch`) as OpenAI says it. */
export function serviceTierOf(usage: unknown): string | undefined {
  const tier = usage && typeof usage === 'object' ? (usage as { service_tier?: unknown }).service_tier : undefined;
  if (typeof tier !== 'string') return undefined;
  return tier === 'standard' ? 'default' : tier;
}
