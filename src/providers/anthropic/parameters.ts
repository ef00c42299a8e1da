/**
 * The request parameters the Anthropic adapter forwards or translates, in OpenRouter's
 * `supported_parameters` vocabulary (before an endpoint's capabilities narrow them).
 */
import { COMMON_PARAMETERS } from '../field-policy.ts';
import { optionParameters } from '../parameters.ts';
import type { ProviderInstance } from '../types.ts';

/** No `seed`: Anthropic has none (dropped with a warning). */
const PARAMETERS = [...COMMON_PARAMETERS.filter((p) => p !== 'seed'), 'top_k', 'reasoning', 'include_reasoning', 'parallel_tool_calls'];

export function anthropicParameters(provider: ProviderInstance): string[] {
  return [...PARAMETERS, ...optionParameters('anthropic', provider, true)];
}
