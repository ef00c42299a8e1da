/**
 * Which providers Freeway knows would serve a model the live catalog lacks, from the same data the
 * catalog is built from: for the 404 that tells an operator which key to set
 * (`anthropic/claude-sonnet-4-5` with only an OpenAI key → set ANTHROPIC_API_KEY).
 */
import { PRESETS } from '../providers/presets.ts';
import type { ProviderPreset } from '../providers/presets.ts';
import { canonicalIndex, idKey, mapToCanonical } from './canonical.ts';
import { pricedModels } from './genai-prices-source.ts';

let servedBy: Map<string, ProviderPreset[]> | undefined;

function index(): Map<string, ProviderPreset[]> {
  if (servedBy) return servedBy;
  const out = new Map<string, ProviderPreset[]>();
  const add = (id: string, p: ProviderPreset) => {
    const list = out.get(idKey(id)) ?? [];
    if (!list.includes(p)) out.set(idKey(id), [...list, p]);
  };
  for (const p of PRESETS) {
    if (!p.pricesId || p.keyless) continue;
    const author = p.authorSlug ?? p.id;
    for (const pm of pricedModels(p.pricesId)) {
      if (p.excludeModels?.test(pm.id)) continue;
      const mapped = mapToCanonical({ providerId: p.id, author, upstream: pm.id, priceEntryId: pm.id });
      add(`${author}/${pm.id}`, p);
      add(`${p.id}/${pm.id}`, p);
      if (mapped) add(mapped.canonical.id, p);
    }
  }
  // A canonical id's alternative spellings find the same providers.
  for (const [key, info] of canonicalIndex().byKey) {
    const list = out.get(idKey(info.id));
    if (list && !out.has(key)) out.set(key, list);
  }
  servedBy = out;
  return out;
}

/** The presets that serve `ref` (a canonical id, an alias, or `provider/model`), none when the data knows no such model. */
export function presetsServing(ref: string): ProviderPreset[] {
  return index().get(idKey(ref)) ?? [];
}
