/**
 * The request parameters the Gemini adapter forwards or translates, in OpenRouter's
 * `supported_parameters` vocabulary (before an endpoint's capabilities narrow them).
 */
import { COMMON_PARAMETERS } from '../field-policy.ts';
import { optionParameters } from '../parameters.ts';
import type { ProviderInstance } from '../types.ts';

const PARAMETERS = [...COMMON_PARAMETERS, 'top_k', 'frequency_penalty', 'presence_penalty', 'reasoning', 'include_reasoning'];

export function geminiParameters(provider: ProviderInstance): string[] {
  return [...PARAMETERS, ...optionParameters('gemini', provider, true)];
}
