/**
 * What the adapters' parameter tables share (each protocol's own table is its folder's
 * `parameters.ts`): the door options of the field policy that OpenRouter's `supported_parameters`
 * vocabulary names.
 */
import { treatment } from './field-policy.ts';
import type { UpstreamOption } from './field-policy.ts';
import type { Protocol, ProviderInstance } from './types.ts';

/** The field policy's options that OpenRouter's vocabulary names (a request's use of them is read from `upstreamOptions`). */
export const OPTION_PARAMETERS: readonly UpstreamOption[] = ['prediction', 'verbosity', 'web_search_options'];

/**
 * The options a provider of `protocol` honours: those its adapter translates, and those it
 * forwards when the server takes them (`forwards`), unless the provider's quirks say it rejects them.
 */
export function optionParameters(protocol: Protocol, provider: ProviderInstance, forwards: boolean): string[] {
  return OPTION_PARAMETERS.filter((o) => {
    const how = treatment(o, protocol);
    const takes = how === 'translate' || (how === 'forward' && forwards);
    return takes && !(provider.quirks.unsupportedParams ?? []).includes(o);
  });
}
