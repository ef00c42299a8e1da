/**
 * `npm run catalog:generate`: writes src/catalog/generated/models-dev.json (./models-dev-snapshot.ts) and
 * src/catalog/generated/genai-prices.json, the part of
 * @pydantic/genai-prices Freeway uses (providers named by `pricesId` in the presets; per model its
 * id, name, description, context window, match rules and the prices Freeway reads), so the gateway
 * does not load the whole package at run time. Conditional prices keep their constraints: the price
 * in force is chosen at run time, so the snapshot does not depend on the day it was generated.
 *
 * Run it after upgrading the package; test/unit/catalog-snapshot.test.ts fails until you do.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProvider } from '@pydantic/genai-prices';
import type { ConditionalPrice, MatchLogic, ModelInfo, ModelPrice } from '@pydantic/genai-prices';
import type {
  PriceSnapshot,
  SnapshotConditionalPrice,
  SnapshotMatch,
  SnapshotModel,
  SnapshotPrice,
} from '../src/catalog/genai-prices-source.ts';
import { PRESETS } from '../src/providers/presets.ts';
import { buildFactsSnapshot, FACTS_PATH, serializeFacts } from './models-dev-snapshot.ts';

export const SNAPSHOT_PATH = fileURLToPath(new URL('../src/catalog/generated/genai-prices.json', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../node_modules/@pydantic/genai-prices/package.json', import.meta.url));

/** The price keys src/catalog/genai-prices-source.ts reads, in the order they are written. */
const PRICE_KEYS = [
  'input_mtok',
  'output_mtok',
  'cache_read_mtok',
  'cache_write_mtok',
  'output_reasoning_mtok',
  'requests_kcount',
] as const satisfies readonly (keyof SnapshotPrice)[];

/** Only the base price of tiered prices is used. */
function price(p: ModelPrice): SnapshotPrice {
  const out: SnapshotPrice = {};
  for (const k of PRICE_KEYS) {
    const v = p[k];
    if (v !== undefined) out[k] = typeof v === 'number' ? v : v.base;
  }
  return out;
}

function conditional(c: ConditionalPrice): SnapshotConditionalPrice {
  const k = c.constraint;
  if (!k) return { prices: price(c.prices) };
  const constraint =
    k.type === 'start_date' ? { type: k.type, start_date: k.start_date } : { type: k.type, start_time: k.start_time, end_time: k.end_time };
  return { constraint, prices: price(c.prices) };
}

/** Copies match rules with a fixed shape (one key per rule). */
function match(m: MatchLogic): SnapshotMatch {
  if ('and' in m) return { and: m.and.map(match) };
  if ('or' in m) return { or: m.or.map(match) };
  if ('equals' in m) return { equals: m.equals };
  if ('starts_with' in m) return { starts_with: m.starts_with };
  if ('ends_with' in m) return { ends_with: m.ends_with };
  if ('contains' in m) return { contains: m.contains };
  if ('regex' in m) return { regex: m.regex };
  throw new Error(`unknown match rule ${JSON.stringify(m)}`);
}

const hasTokenPrice = (p: SnapshotPrice) => p.input_mtok !== undefined || p.output_mtok !== undefined;

function model(m: ModelInfo): SnapshotModel | undefined {
  const prices = Array.isArray(m.prices) ? m.prices.map(conditional) : price(m.prices);
  // A model with no input or output price in any period is never priced; leave it out.
  if (!(Array.isArray(prices) ? prices.some((c) => hasTokenPrice(c.prices)) : hasTokenPrice(prices))) return undefined;
  return {
    id: m.id,
    ...(m.name !== undefined && { name: m.name }),
    ...(m.description !== undefined && { description: m.description }),
    ...(m.context_window !== undefined && { context_window: m.context_window }),
    match: match(m.match),
    prices,
  };
}

/** Builds the snapshot from the installed package, without writing it. */
export function buildSnapshot(): PriceSnapshot {
  const version = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
  const providers: Record<string, SnapshotModel[]> = {};
  const ids = [...new Set(PRESETS.flatMap((p) => (p.pricesId ? [p.pricesId] : [])))].sort();
  for (const id of ids) {
    const provider = findProvider({ providerId: id });
    // Same rule as at run time: a lookup that lands on another provider counts as none.
    if (!provider || provider.id !== id) continue;
    providers[id] = provider.models.flatMap((m) => {
      if (m.deprecated) return [];
      const s = model(m);
      return s ? [s] : [];
    });
  }
  return { source: { package: '@pydantic/genai-prices', version }, providers };
}

/** One model per line: small, deterministic, and readable in a diff. */
export function serializeSnapshot(s: PriceSnapshot): string {
  const providers = Object.entries(s.providers).map(
    ([id, models]) => `    ${JSON.stringify(id)}: [\n${models.map((m) => `      ${JSON.stringify(m)}`).join(',\n')}\n    ]`,
  );
  return `{\n  "source": ${JSON.stringify(s.source)},\n  "providers": {\n${providers.join(',\n')}\n  }\n}\n`;
}

if (import.meta.main) {
  const snapshot = buildSnapshot();
  mkdirSync(dirname(SNAPSHOT_PATH), { recursive: true });
  writeFileSync(SNAPSHOT_PATH, serializeSnapshot(snapshot));
  const count = Object.values(snapshot.providers).reduce((n, m) => n + m.length, 0);
  console.log(`wrote ${SNAPSHOT_PATH}: ${count} models from @pydantic/genai-prices ${snapshot.source.version}`);
  const facts = buildFactsSnapshot();
  writeFileSync(FACTS_PATH, serializeFacts(facts));
  const known = Object.values(facts.providers).reduce((n, m) => n + Object.keys(m).length, 0);
  console.log(`wrote ${FACTS_PATH}: ${known} models from ${facts.source.package} ${facts.source.version}`);
}
