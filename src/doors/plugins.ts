/**
 * OpenRouter's plugins, as every door takes them (chat completions, legacy completions, Messages):
 * consumed by Freeway and never forwarded. An unknown id is a 400; a known plugin Freeway cannot
 * run is warned about, in the door's answer, streams included.
 */
import { arr, bool, fail, obj, str } from '../spec/validate.ts';
import type { Obj } from '../spec/validate.ts';

/** What Freeway does with each of OpenRouter's plugins, by id. */
const PLUGINS: Record<string, (p: Obj, at: string) => string | undefined> = {
  web: () => 'plugin "web" (web search) is not available in Freeway; the model answered without searching the web.',
  'web-fetch': () => 'plugin "web-fetch" is not available in Freeway; no page was fetched.',
  // Files always go to the model natively; only another parsing engine is something Freeway lacks.
  'file-parser': (p, at) => {
    const pdf = p.pdf === undefined ? undefined : obj(p.pdf, `${at}.pdf`);
    const engine = pdf?.engine === undefined ? 'native' : str(pdf.engine, `${at}.pdf.engine`);
    if (engine === 'native') return undefined;
    return `plugin "file-parser" engine ${JSON.stringify(engine)} is not available in Freeway; files were sent to the model as they are.`;
  },
  'response-healing': () => 'plugin "response-healing" is not available in Freeway; JSON answers are returned as the model wrote them.',
  'context-compression': () => 'plugin "context-compression" (middle-out) is not available in Freeway; the prompt was sent whole.',
  moderation: () => 'plugin "moderation" is not available in Freeway; the request was not moderated.',
  fusion: () => 'plugin "fusion" is not available in Freeway; one model answered.',
  // Read only by OpenRouter's routers (`openrouter/auto`...), which a concrete model id does not use.
  'auto-router': () => undefined,
  'auto-beta-router': () => undefined,
  'pareto-router': () => undefined,
};

/** Validates `body.plugins`; returns a warning for each enabled plugin Freeway cannot honour. */
export function consumePlugins(body: Obj): string[] {
  const warnings: string[] = [];
  if (body.plugins === undefined || body.plugins === null) return warnings;
  arr(body.plugins, 'plugins').forEach((raw, i) => {
    const at = `plugins[${i}]`;
    const p = obj(raw, at);
    const id = str(p.id, `${at}.id`);
    const handle = Object.hasOwn(PLUGINS, id) ? PLUGINS[id] : undefined;
    if (!handle) fail(`${at}.id`, `unknown plugin ${JSON.stringify(id)}; known plugins are ${Object.keys(PLUGINS).join(', ')}`);
    if (p.enabled !== undefined && !bool(p.enabled, `${at}.enabled`)) return;
    const w = handle(p, at);
    if (w) warnings.push(w);
  });
  return warnings;
}
