/**
 * The live catalog: lookup by model ref, close-match suggestions, and an atomic swap when it is
 * rebuilt. Lookups are map reads; nothing here runs per request beyond that.
 */
import type { CatalogModel } from './types.ts';

/** `anthropic/claude-sonnet-4.5` (OpenRouter's dots) and `anthropic/claude-sonnet-4-5` (Anthropic's dashes) are one model. */
function normalise(id: string): string {
  return id.toLowerCase().replace(/\./g, '-');
}

export class Catalog {
  private models: Map<string, CatalogModel>;
  private byNormalised = new Map<string, CatalogModel>();
  private sorted: CatalogModel[] = [];

  constructor(models: Map<string, CatalogModel>) {
    this.models = models;
    this.index();
  }

  replace(models: Map<string, CatalogModel>): void {
    this.models = models;
    this.index();
  }

  private index(): void {
    const byNormalised = new Map<string, CatalogModel>();
    for (const m of this.models.values()) {
      const key = normalise(m.id);
      if (!byNormalised.has(key)) byNormalised.set(key, m);
    }
    this.byNormalised = byNormalised;
    this.sorted = [...this.models.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(ref: string): CatalogModel | undefined {
    return this.models.get(ref) ?? this.byNormalised.get(normalise(ref));
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
    const scored: Array<{ id: string; score: number }> = [];
    for (const m of this.sorted) {
      const id = normalise(m.id);
      const mSlug = id.slice(id.indexOf('/') + 1);
      let score = editDistance(slug, mSlug);
      if (mSlug.includes(slug) || slug.includes(mSlug)) score -= 5;
      if (id.split('/')[0] === target.split('/')[0]) score -= 1;
      scored.push({ id: m.id, score });
    }
    scored.sort((a, b) => a.score - b.score || a.id.localeCompare(b.id));
    const cutoff = Math.max(4, Math.floor(slug.length / 2));
    return scored.filter((s) => s.score <= cutoff).slice(0, limit).map((s) => s.id);
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
