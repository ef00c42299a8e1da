/**
 * The endpoint key: an endpoint's stable id across processes, `provider:upstream-model`. Health,
 * limits, sticky routing and the configuration's per-endpoint settings all name endpoints by it;
 * `provider:*` names a provider's defaults.
 */
import type { Endpoint } from './types.ts';

/** `provider:upstream-model`. */
export function endpointKeyOf(providerId: string, upstreamModel: string): string {
  return `${providerId}:${upstreamModel}`;
}

/** Stable id of an endpoint across processes: `provider:upstream-model`. */
export function endpointKey(e: Pick<Endpoint, 'provider' | 'upstreamModel'>): string {
  return endpointKeyOf(e.provider.id, e.upstreamModel);
}

/** The key of a provider's defaults for all its endpoints: `provider:*`. */
export function providerDefaultsKey(providerId: string): string {
  return endpointKeyOf(providerId, '*');
}

/** The provider an endpoint key names: what precedes its first ':' (provider ids have none). */
export function providerOfKey(key: string): string {
  return key.slice(0, Math.max(0, key.indexOf(':')));
}
