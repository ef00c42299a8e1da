/**
 * The chat door's options for the model (providers/field-policy.ts) on Gemini: `web_search_options`
 * becomes the `google_search` tool (providers/web-search.ts); the others have no native equivalent
 * in generateContent and are dropped with a warning — except what asks for nothing Gemini does not
 * do anyway (the standard service tier, and the table's neutral values).
 */
import { dropWarning, sortOptions } from '../field-policy.ts';
import { readWebSearch } from '../web-search.ts';
import type { GeminiRequest } from './wire-types.ts';

export function applyOptions(options: Readonly<Record<string, unknown>> | undefined, body: GeminiRequest, warnings: string[]): void {
  const { translate } = sortOptions('gemini', options, warnings, 'Gemini');
  const tier = translate.service_tier;
  if (typeof tier === 'string' && tier !== 'auto' && tier !== 'default') {
    warnings.push(dropWarning(`service_tier ${JSON.stringify(tier)}`, 'Gemini', 'served on the standard tier'));
  }
  const search = readWebSearch(translate.web_search_options);
  if (search) {
    body.tools = [...(body.tools ?? []), { google_search: {} }];
    const why = 'Google Search grounding takes no such setting';
    if (search.location) warnings.push(dropWarning('web_search_options.user_location', 'Gemini', why));
    if (search.contextSize) warnings.push(dropWarning('web_search_options.search_context_size', 'Gemini', why));
  }
}
