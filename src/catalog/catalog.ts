/**
 * The live catalog: lookup by model ref, close-match suggestions, and an atomic swap when it is
 * rebuilt. Lookups are map reads; nothing here runs per request beyond that.
 */
import type { CatalogModel } from './types.ts';

/** `anthropic/claude-sonnet-4.5` (OpenRouter's dots) and `anthropic/claude-sonnet-4-5` (Anthropic's dashes) are one model. */
function normalise(id: string): string {
  return id.toLowerCase().replace(/\./g, '-');
}

/** Ids that find a model without being listed: aliases of listed models, and provider-pinned models. */
export interface CatalogExtras {
  aliases?: ReadonlyMap<string, string>;
  pinned?: ReadonlyMap<string, CatalogModel>;
}

export class Catalog {
  private models: Map<string, CatalogModel>;
  private extras: CatalogExtras;
  private byNormalised = new Map<string, CatalogModel>();
  private sorted: CatalogModel[] = [];

  constructor(models: Map<string, CatalogModel>, extras: CatalogExtras = {}) {
    this.models = models;
    this.extras = extras;
    this.index();
  }

  replace(models: Map<string, CatalogModel>, extras: CatalogExtras = {}): void {
    this.models = models;
    this.extras = extras;
    this.index();
  }

  /**
   * Listed models first, then their aliases, then pinned ids, each by exact id before any other
   * spelling: `anthropic/claude-sonnet-4-5` is the canonical `anthropic/claude-sonnet-4.5`,
   * `groq/llama-3.3-70b-versatile` pins Groq.
   */
  private index(): void {
    const byNormalised = new Map<string, CatalogModel>();
    const add = (id: string, m: CatalogModel) => {
      const key = normalise(id);
      if (!byNormalised.has(key)) byNormalised.set(key, m);
    };
    for (const m of this.models.values()) add(m.id, m);
    for (const [alias, id] of this.extras.aliases ?? []) {
      const m = this.models.get(id);
      if (m) add(alias, m);
    }
    for (const m of this.extras.pinned?.values() ?? []) add(m.id, m);
    this.byNormalised = byNormalised;
    this.sorted = [...this.models.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(ref: string): CatalogModel | undefined {
    const alias = this.extras.aliases?.get(ref);
    return (
      this.models.get(ref) ??
      (alias === undefined ? undefined : this.models.get(alias)) ??
      this.extras.pinned?.get(ref) ??
      this.byNormalised.get(normalise(ref))
    );
  }

  /** Provider-pinned models (not listed), for tools that show what each provider serves. */
  pinned(): readonly CatalogModel[] {
    return [...(this.extras.pinned?.values() ?? [])];
  }

  all(): readonly CatalogModel[] {
    return this.sorted;
  }

  get size(): number {
    return this.models.size;
  }

  /** Up to `limit` ids closest to `ref`: same provider prefix and substring matches first, then edit distance. */
  suggest(ref: string, limit = 3): string[] {
    const target = normalise(ref);
    const slug = target.includes('/') ? target.slice(target.indexOf('/') + 1) : target;
    const cutoff = Math.max(4, Math.floor(slug.length / 2));
    const scored: Array<{ id: string; score: number }> = [];
    for (const m of this.sorted) {
      const id = normalise(m.id);
      const mSlug = id.slice(id.indexOf('/') + 1);
      // The edit distance is at least the difference in length, so a ref far longer than an id (a
      // client's megabyte of text) cannot come within the cutoff: skipped, not measured at O(n·m).
      if (Math.abs(slug.length - mSlug.length) - 6 > cutoff) continue;
      let score = editDistance(slug, mSlug);
      if (mSlug.includes(slug) || slug.includes(mSlug)) score -= 5;
      if (id.split('/')[0] === target.split('/')[0]) score -= 1;
      scored.push({ id: m.id, score });
    }
    scored.sort((a, b) => a.score - b.score || a.id.localeCompare(b.id));
    return scored
      .filter((s) => s.score <= cutoff)
      .slice(0, limit)
      .map((s) => s.id);
  }
}

function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
