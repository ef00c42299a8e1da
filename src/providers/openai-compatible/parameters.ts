/**
 * The request parameters an OpenAI-compatible server takes, in OpenRouter's `supported_parameters`
 * vocabulary: OpenAI's own, narrowed or widened by the provider's quirks (before an endpoint's
 * capabilities narrow them).
 */
import { COMMON_PARAMETERS } from '../field-policy.ts';
import { optionParameters } from '../parameters.ts';
import type { ProviderInstance } from '../types.ts';

const PARAMETERS = [
  ...COMMON_PARAMETERS,
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'parallel_tool_calls',
  'reasoning',
  'include_reasoning',
];

/** Sampling parameters that only servers with `quirks.extraSampling` accept. */
const EXTRA_SAMPLING = ['top_k', 'min_p', 'top_a', 'repetition_penalty'];
const REASONING = ['reasoning', 'include_reasoning'];

export function openAIParameters(provider: ProviderInstance): string[] {
  const q = provider.quirks;
  const set = new Set(PARAMETERS);
  if (q.extraSampling) for (const s of EXTRA_SAMPLING) set.add(s);
  for (const s of q.unsupportedParams ?? []) set.delete(s);
  if (q.reasoningParam === 'none') for (const s of REASONING) set.delete(s);
  // OpenAI's own options (prediction, verbosity, ...) go only to servers known to take them.
  return [...set, ...optionParameters('openai', provider, q.openAIOptions === true)];
}
