/**
 * Model names as Anthropic clients send them. Freeway/OpenRouter ids (`anthropic/claude-sonnet-4-5`,
 * `openai/gpt-4o-mini`) are used as they are. A bare id with no `/` — what Claude Code and the
 * Anthropic SDKs send (`claude-sonnet-4-5-20250929`) — that the catalog does not know by itself is
 * tried as `anthropic/<id>`; a routing variant (`:nitro`, `:floor`) stays attached.
 */
import type { Catalog } from '../../catalog/catalog.ts';

export function resolveModelRef(catalog: Catalog, ref: string): string {
  if (ref.includes('/')) return ref;
  const colon = ref.indexOf(':');
  const base = colon === -1 ? ref : ref.slice(0, colon);
  if (catalog.get(base) || catalog.get(ref)) return ref;
  return catalog.get(`anthropic/${base}`) ? `anthropic/${ref}` : ref;
}
