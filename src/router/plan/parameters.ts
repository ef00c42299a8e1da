/**
 * Request parameters in OpenRouter's `supported_parameters` vocabulary: which ones an endpoint
 * honours (its provider's adapter says which; the endpoint's capabilities narrow them), and which
 * ones a request uses. `provider.require_parameters` routes only where the second is a subset of
 * the first.
 */
import type { Endpoint } from '../../catalog/types.ts';
import type { ChatRequest } from '../../spec/request.ts';
import { asksForReasoning } from '../../providers/field-policy.ts';
import { OPTION_PARAMETERS } from '../../providers/parameters.ts';
import { ADAPTERS } from '../../providers/registry.ts';

const TOOL_PARAMS = new Set(['tools', 'tool_choice', 'parallel_tool_calls']);
const REASONING_PARAMS = new Set(['reasoning', 'include_reasoning']);

const cache = new WeakMap<Endpoint, readonly string[]>();

/** The parameters this endpoint honours, sorted (an endpoint's `supported_parameters`). */
export function supportedParameters(e: Endpoint): readonly string[] {
  const hit = cache.get(e);
  if (hit) return hit;
  // What the provider's adapter honours for it; the endpoint's capabilities narrow that.
  const set = new Set(ADAPTERS[e.provider.protocol].parameters(e.provider));
  if (!e.supportsTools) for (const s of TOOL_PARAMS) set.delete(s);
  if (e.supportsReasoning === false) for (const s of REASONING_PARAMS) set.delete(s);
  if (!e.supportsStructuredOutputs) set.delete('structured_outputs');
  const out = [...set].sort();
  cache.set(e, out);
  return out;
}

/** The union over a model's endpoints (what `GET /models` lists for the model). */
export function modelSupportedParameters(endpoints: readonly Endpoint[]): string[] {
  const set = new Set<string>();
  for (const e of endpoints) for (const s of supportedParameters(e)) set.add(s);
  return [...set].sort();
}

/** The parameters a request sets, in `supported_parameters` vocabulary. */
export function parametersOf(req: ChatRequest): Set<string> {
  const used = new Set<string>();
  const add = (name: string, v: unknown) => {
    if (v !== undefined) used.add(name);
  };
  add('max_tokens', req.maxTokens);
  add('temperature', req.temperature);
  add('top_p', req.topP);
  add('top_k', req.topK);
  add('frequency_penalty', req.frequencyPenalty);
  add('presence_penalty', req.presencePenalty);
  add('repetition_penalty', req.repetitionPenalty);
  add('min_p', req.minP);
  add('top_a', req.topA);
  add('seed', req.seed);
  add('logit_bias', req.logitBias);
  if (req.logprobs) used.add('logprobs');
  add('top_logprobs', req.topLogprobs);
  if (req.stop && req.stop.length > 0) used.add('stop');
  const hasTools = (req.tools?.length ?? 0) > 0;
  if (hasTools) used.add('tools');
  add('tool_choice', req.toolChoice);
  if (hasTools) add('parallel_tool_calls', req.parallelToolCalls);
  if (req.responseFormat && req.responseFormat.type !== 'text') {
    used.add('response_format');
    if (req.responseFormat.type === 'json_schema') used.add('structured_outputs');
  }
  // `include_reasoning: false` alone (`{ exclude: true }`) asks for no reasoning, so needs no support for it.
  for (const o of OPTION_PARAMETERS) if (req.upstreamOptions?.[o] !== undefined) used.add(o);
  if (asksForReasoning(req.reasoning)) used.add('reasoning');
  return used;
}
