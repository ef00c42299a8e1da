/**
 * OpenRouter's plugins, as every door takes them (chat completions, legacy completions, Messages):
 * consumed by Freeway and never forwarded. An unknown id is a 400; a known plugin Freeway cannot
 * run is warned about, in the door's answer, streams included. The `web` plugin with its native
 * engine (OpenRouter's default for the providers that have one) is the native web search, on a door
 * that can ask for it (chat's `web_search_options`, which each adapter translates or drops).
 */
import { arr, bool, fail, obj, str } from '../spec/validate.ts';
import type { Obj } from '../spec/validate.ts';

/** A plugin's consequence: a warning, and for `web`, the native web search asked for. */
type Outcome = string | undefined | { webSearch: true; warning?: string };

/** What Freeway does with each of OpenRouter's plugins, by id; `search`: the door can ask for a native web search. */
const PLUGINS: Record<string, (p: Obj, at: string, search: boolean) => Outcome> = {
  web: (p, at, search) => {
    const engine = p.engine === undefined ? 'native' : str(p.engine, `${at}.engine`);
    if (!search || engine !== 'native') {
      const which = engine === 'native' ? '' : ` engine ${JSON.stringify(engine)}`;
      return `plugin "web"${which} (web search) is not available in Freeway on this route; the model answered without searching the web.`;
    }
    // max_results and search_prompt shape the results OpenRouter's Exa engine injects; a native search has none.
    const unsent = ['max_results', 'search_prompt'].filter((k) => p[k] !== undefined && p[k] !== null);
    const verb = unsent.length > 1 ? 'apply' : 'applies';
    if (unsent.length === 0) return { webSearch: true };
    const warning = `plugin "web": ${unsent.join(', ')} ${verb} to the Exa engine only; the native web search was used.`;
    return { webSearch: true, warning };
  },
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

/**
 * Validates `body.plugins`: a warning for each enabled plugin Freeway cannot honour, and whether a
 * native web search was asked for (only when `search`: the door can ask for one).
 */
export function consumePlugins(body: Obj, search = false): { warnings: string[]; webSearch: boolean } {
  const warnings: string[] = [];
  let webSearch = false;
  if (body.plugins === undefined || body.plugins === null) return { warnings, webSearch };
  arr(body.plugins, 'plugins').forEach((raw, i) => {
    const at = `plugins[${i}]`;
    const p = obj(raw, at);
    const id = str(p.id, `${at}.id`);
    const handle = Object.hasOwn(PLUGINS, id) ? PLUGINS[id] : undefined;
    if (!handle) fail(`${at}.id`, `unknown plugin ${JSON.stringify(id)}; known plugins are ${Object.keys(PLUGINS).join(', ')}`);
    if (p.enabled !== undefined && !bool(p.enabled, `${at}.enabled`)) return;
    const outcome = handle(p, at, search);
    if (typeof outcome === 'string') warnings.push(outcome);
    else if (outcome) {
      webSearch = true;
      if (outcome.warning) warnings.push(outcome.warning);
    }
  });
  return { warnings, webSearch };
}
