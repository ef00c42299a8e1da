/**
 * What an operator deciding what to expose wants to see (`freeway catalog`): for each provider,
 * what it lists, which canonical model each id is an endpoint of, and what is unpriced or unmapped.
 */
import { femtoToUsdString } from '../spec/money.ts';
import type { Settings } from '../config/load.ts';
import { canonicalIndex, idKey } from './canonical.ts';
import { CANONICAL_RULES } from './canonical-rules.ts';
import type { BuildOutput } from './build.ts';
import type { CatalogModel, Endpoint } from './types.ts';

export interface ReportRow {
  /** The provider's own id. */
  upstream: string;
  /** The canonical model it is an endpoint of, or null when no data maps it (it is then a model of its own). */
  canonical: string | null;
  /** The id a client names to reach exactly this endpoint. */
  pinnedId: string;
  unpriced: boolean;
  free: boolean;
  /** USD per million tokens, as decimal strings. */
  promptPerM: string;
  completionPerM: string;
}

export interface ProviderReport {
  id: string;
  name: string;
  /** `listed`: its own list; `failed`: listing failed (the price data stands in); `not listed`: it has no list, or is told not to. */
  source: 'listed' | 'failed' | 'not listed';
  error?: string;
  listedCount?: number;
  rows: ReportRow[];
}

function canonicalIds(): Set<string> {
  const ids = [...canonicalIndex().byKey.values()].map((c) => c.id);
  for (const table of Object.values(CANONICAL_RULES.ids)) ids.push(...Object.values(table));
  return new Set(ids.map(idKey));
}

export function catalogReport(
  settings: Settings,
  built: BuildOutput,
  listed: ReadonlyMap<string, readonly string[]>,
  failed: ReadonlyMap<string, string>,
): ProviderReport[] {
  const known = canonicalIds();
  const rows = new Map<string, ReportRow[]>();
  const seen = new Set<Endpoint>();
  const perM = (femto: bigint) => femtoToUsdString(femto * 1_000_000n);
  const add = (m: CatalogModel, e: Endpoint) => {
    if (seen.has(e)) return;
    seen.add(e);
    const canonicalId = m.pinnedOf ?? m.id;
    const list = rows.get(e.provider.id) ?? [];
    list.push({
      upstream: e.upstreamModel,
      canonical: known.has(idKey(canonicalId.replace(/:free$/, ''))) ? canonicalId : null,
      pinnedId: m.id,
      unpriced: e.unpriced === true,
      free: e.free,
      promptPerM: perM(e.pricing.prompt),
      completionPerM: perM(e.pricing.completion),
    });
    rows.set(e.provider.id, list);
  };
  // Pinned ids first: they name exactly one endpoint, which is what a client would write.
  for (const m of built.pinned.values()) add(m, m.endpoints[0]);
  for (const m of built.models.values()) for (const e of m.endpoints) add(m, e);
  return settings.providers.map(
    (p): ProviderReport => ({
      id: p.id,
      name: p.name,
      source: listed.has(p.id) ? 'listed' : failed.has(p.id) ? 'failed' : 'not listed',
      ...(failed.has(p.id) ? { error: failed.get(p.id) } : {}),
      ...(listed.has(p.id) ? { listedCount: listed.get(p.id)!.length } : {}),
      rows: (rows.get(p.id) ?? []).sort((a, b) => a.upstream.localeCompare(b.upstream)),
    }),
  );
}

function priceOf(x: ReportRow): string {
  if (x.unpriced) return 'UNPRICED: not served until you set its pricing (or free: true) under models:';
  if (x.free) return 'free';
  return `$${x.promptPerM} / $${x.completionPerM} per M tokens`;
}

function sourceOf(r: ProviderReport): string {
  if (r.source === 'listed') return `lists ${r.listedCount} models`;
  if (r.source === 'failed') return `its model list could not be read (${r.error}); the price data stands in`;
  return 'no model list asked for; the price data and the config say what it serves';
}

/** The report as text, one line per endpoint. */
export function formatReport(reports: readonly ProviderReport[]): string[] {
  const out: string[] = [];
  for (const r of reports) {
    out.push(`${r.id} (${r.name}): ${sourceOf(r)}`);
    const width = Math.min(48, Math.max(0, ...r.rows.map((x) => x.upstream.length)));
    for (const x of r.rows) {
      const target = x.canonical ? `→ ${x.canonical}` : `unmapped: served as ${x.pinnedId}`;
      out.push(`  ${x.upstream.padEnd(width)}  ${target}  ${priceOf(x)}`);
    }
    const unpriced = r.rows.filter((x) => x.unpriced).length;
    const unmapped = r.rows.filter((x) => !x.canonical).length;
    const mapped = r.rows.length - unmapped;
    out.push(`  ${r.rows.length} models: ${mapped} mapped to canonical models, ${unmapped} unmapped, ${unpriced} unpriced`);
  }
  return out;
}
