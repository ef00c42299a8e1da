/**
 * Which canonical model (OpenRouter's `author/slug`) a provider's own model id serves. The canonical
 * ids are data: the models @pydantic/genai-prices prices for OpenRouter (their ids and the exact
 * alternative ids its match rules name), in ./generated. A provider's id reaches one of them by the
 * same steps for every provider, in order:
 *
 * 1. the reviewed table in ./canonical-rules.ts (`ids`);
 * 2. `author/id` (first-party providers: `anthropic/claude-sonnet-4-5` is `anthropic/claude-sonnet-4.5`),
 *    or the id itself when it already has an author (`meta-llama/Llama-3.3-70B-Instruct`);
 * 3. the same after a host's prefix, spelling and serving suffixes are undone (`accounts/fireworks/models/`,
 *    `v3p3` for `v3.3`, `...-Instruct-Turbo`, `-FP8`);
 * 4. the id of the provider's price entry that covers it (a dated snapshot's undated family);
 * 5. the bare slug, when exactly one canonical model has it (`gpt-oss-120b` is `openai/gpt-oss-120b`).
 *
 * Ids compare case-blind with dots as dashes, as both spellings are in use. What none of this
 * reaches stays the provider's own model (`groq/some-new-model`), never a guess.
 */
import { CANONICAL_RULES } from './canonical-rules.ts';
import type { CanonicalRules } from './canonical-rules.ts';
import { canonicalEntries } from './genai-prices-source.ts';

/** The comparison key: `anthropic/claude-sonnet-4.5` and `anthropic/claude-sonnet-4-5` are one. */
export function idKey(id: string): string {
  return id.toLowerCase().replace(/\./g, '-');
}

export interface CanonicalInfo {
  id: string;
  /** The data's display name, without the author (`Claude Sonnet 4.5`), when it has one. */
  name?: string;
  description?: string;
  contextLength?: number;
}

export interface CanonicalIndex {
  /** The canonical model a key (of the id or of one of its alternative ids) names. */
  byKey: ReadonlyMap<string, CanonicalInfo>;
  /** Slug key → canonical models with that slug under any author. */
  bySlug: ReadonlyMap<string, readonly CanonicalInfo[]>;
}

let defaultIndex: CanonicalIndex | undefined;

/** The index of the generated data (built once, on first use). */
export function canonicalIndex(): CanonicalIndex {
  defaultIndex ??= buildIndex(canonicalEntries());
  return defaultIndex;
}

export function buildIndex(entries: ReadonlyArray<CanonicalInfo & { alternatives?: readonly string[] }>): CanonicalIndex {
  const byKey = new Map<string, CanonicalInfo>();
  const bySlug = new Map<string, CanonicalInfo[]>();
  for (const e of entries) {
    const info: CanonicalInfo = { id: e.id, name: e.name, description: e.description, contextLength: e.contextLength };
    byKey.set(idKey(e.id), info);
    const slug = idKey(e.id.slice(e.id.indexOf('/') + 1));
    bySlug.set(slug, [...(bySlug.get(slug) ?? []), info]);
  }
  // Alternative ids never displace a canonical id of their own.
  for (const e of entries) {
    for (const alt of e.alternatives ?? []) if (!byKey.has(idKey(alt))) byKey.set(idKey(alt), byKey.get(idKey(e.id))!);
  }
  return { byKey, bySlug };
}

export interface MapInput {
  providerId: string;
  /** The author slug of a first-party provider's own models (`anthropic`, `x-ai`), else the provider id. */
  author: string;
  upstream: string;
  /** The id of the provider's price entry covering `upstream`, when one does. */
  priceEntryId?: string;
}

export interface Mapped {
  canonical: CanonicalInfo;
  /** Weights precision a host's serving suffix names (`-FP8`). */
  quantization: string | null;
}

function stripHost(id: string, rules: CanonicalRules): { id: string; quantization: string | null } {
  let out = id;
  let quantization: string | null = null;
  for (const { suffix, quantization: q } of rules.hostSuffixes) {
    if (out.toLowerCase().endsWith(suffix)) {
      out = out.slice(0, out.length - suffix.length);
      quantization ??= q;
    }
  }
  return { id: out, quantization };
}

export function mapToCanonical(input: MapInput, index = canonicalIndex(), rules = CANONICAL_RULES): Mapped | undefined {
  const { providerId, author, upstream } = input;
  const lookup = (id: string) => index.byKey.get(idKey(id));
  let bare = upstream;
  for (const prefix of rules.stripPrefixes[providerId] ?? []) if (bare.startsWith(prefix)) bare = bare.slice(prefix.length);
  const table = rules.ids[providerId];
  const ruled = table && (Object.hasOwn(table, upstream) ? table[upstream] : Object.hasOwn(table, bare) ? table[bare] : undefined);
  if (ruled !== undefined) {
    const canonical = lookup(ruled) ?? { id: ruled };
    return { canonical, quantization: stripHost(upstream, rules).quantization };
  }
  for (const { pattern, replace } of rules.rewrites[providerId] ?? []) bare = bare.replace(new RegExp(pattern, 'g'), replace);
  const stripped = stripHost(bare, rules);
  const authors = [author, ...(Object.hasOwn(rules.hostedAuthor, providerId) ? [rules.hostedAuthor[providerId]] : [])];
  const withAuthor = (id: string) => [...(id.includes('/') ? [id] : []), ...authors.map((a) => `${a}/${id}`)];
  const candidates = [...withAuthor(bare), ...withAuthor(stripped.id)];
  if (input.priceEntryId !== undefined) candidates.push(...withAuthor(input.priceEntryId));
  for (const c of candidates) {
    const hit = lookup(c);
    if (hit) return { canonical: hit, quantization: stripped.quantization };
  }
  const slug = idKey(stripped.id.slice(stripped.id.lastIndexOf('/') + 1));
  const bySlug = index.bySlug.get(slug);
  if (bySlug?.length === 1) return { canonical: bySlug[0], quantization: stripped.quantization };
  return undefined;
}

/** `Meta: Llama 3.3 70B Instruct`, as OpenRouter names models, when the author's name is known. */
export function displayName(canonicalId: string, name: string, rules = CANONICAL_RULES): string {
  const author = canonicalId.slice(0, canonicalId.indexOf('/'));
  const spelled = Object.hasOwn(rules.authors, author) ? rules.authors[author] : undefined;
  return spelled && !name.startsWith(`${spelled}:`) ? `${spelled}: ${name}` : name;
}
