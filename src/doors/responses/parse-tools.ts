/**
 * The Responses door's `tools`: function tools as they are; `namespace` tools (a named group of
 * function tools, as Codex sends) flattened to function tools named `namespace__name`, mapped back
 * on the way out so names round-trip. Hosted tools run by the upstream itself: `web_search`
 * (`web_search_preview`) becomes chat's `web_search_options`, which the adapters forward to OpenAI
 * and drop with a warning elsewhere (providers/field-policy.ts); the others (`file_search`, ...)
 * exist only on OpenAI's own Responses servers, which no upstream of this door is: dropped with a
 * warning the client sees, so the model simply does not get them.
 */
import type { ToolDefinition } from '../../spec/request.ts';
import { arr, bool, fail, obj, oneOf, opt, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';

/** A flattened tool name → the client's namespace and name. */
export type ToolNames = Map<string, { namespace: string; name: string }>;

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const SEPARATOR = '__';

export interface ParsedTools {
  tools: ToolDefinition[];
  names: ToolNames;
  /** The tools the response repeats back: what the model was offered, as the client wrote it. */
  echo: Obj[];
  /** A hosted web search tool, as chat's `web_search_options`. */
  webSearch?: Obj;
}

const WEB_SEARCH = /^web_search(_preview)?(_\d{4}_\d\d_\d\d)?$/;
const LOCATION_KEYS = ['city', 'country', 'region', 'timezone'] as const;

/**
 * A Responses `web_search` tool as chat's `web_search_options` (OpenAI's API reference for both):
 * the same `search_context_size`; the location's fields move under `user_location.approximate`.
 * A restriction chat's option cannot say (domain `filters`, cached results only with
 * `external_web_access: false`, as Codex sends by default) would be lifted by a search without it:
 * the tool is dropped then, with a warning (undefined).
 */
function webSearchOptions(t: Obj, p: string, i: number, warnings: string[]): Obj | undefined {
  const out: Obj = {};
  const size = opt(t, 'search_context_size', (v, q) => oneOf(v, q, ['low', 'medium', 'high'] as const), p);
  if (size !== undefined) out.search_context_size = size;
  const loc = opt(t, 'user_location', obj, p);
  if (loc) {
    const approximate: Obj = {};
    for (const k of LOCATION_KEYS) {
      const v = opt(loc, k, str, `${p}.user_location`);
      if (v !== undefined) approximate[k] = v;
    }
    out.user_location = { type: 'approximate', approximate };
  }
  const live = opt(t, 'external_web_access', bool, p);
  const filters = t.filters === undefined || t.filters === null ? undefined : obj(t.filters, `${p}.filters`);
  if (live === false || filters !== undefined) {
    const what = live === false ? 'cached results only (external_web_access: false)' : 'domain filters';
    const tool = `The hosted tool ${JSON.stringify(t.type)} (tools[${i}])`;
    warnings.push(`${tool} asks for ${what}, which no upstream of this route can promise; it was dropped.`);
    return undefined;
  }
  return out;
}

/** The name the model sees for `name` in `namespace`. */
export function flatName(namespace: string, name: string): string {
  return `${namespace}${SEPARATOR}${name}`;
}

function functionTool(t: Obj, p: string, namespace?: string): ToolDefinition {
  const name = str(t.name, `${p}.name`);
  if (!NAME.test(name)) fail(`${p}.name`, 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -');
  const flat = namespace === undefined ? name : flatName(namespace, name);
  if (!NAME.test(flat)) fail(`${p}.name`, `${JSON.stringify(flat)} (namespace and name) is longer than the 64 characters a model takes`);
  return {
    name: flat,
    description: opt(t, 'description', str, p),
    parameters: opt(t, 'parameters', obj, p) ?? { type: 'object', properties: {} },
    strict: opt(t, 'strict', bool, p),
  };
}

export function parseTools(v: unknown, warnings: string[]): ParsedTools {
  const out: ParsedTools = { tools: [], names: new Map(), echo: [] };
  const add = (def: ToolDefinition, p: string, origin?: { namespace: string; name: string }) => {
    if (out.tools.some((t) => t.name === def.name)) fail(`${p}.name`, `two tools are named ${JSON.stringify(def.name)}`);
    out.tools.push(def);
    if (origin) out.names.set(def.name, origin);
  };
  arr(v, 'tools').forEach((raw, i) => {
    const p = `tools[${i}]`;
    const t = obj(raw, p);
    const type = str(t.type, `${p}.type`);
    if (type === 'function') {
      add(functionTool(t, p), p);
      out.echo.push({ ...t, description: t.description ?? null, strict: t.strict ?? null });
    } else if (type === 'namespace') {
      const namespace = str(t.name, `${p}.name`);
      if (!NAME.test(namespace)) fail(`${p}.name`, 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -');
      arr(t.tools, `${p}.tools`).forEach((inner, j) => {
        const q = `${p}.tools[${j}]`;
        const it = obj(inner, q);
        if (str(it.type, `${q}.type`) !== 'function') fail(`${q}.type`, 'a namespace holds function tools only');
        add(functionTool(it, q, namespace), q, { namespace, name: str(it.name, `${q}.name`) });
      });
      out.echo.push(t);
    } else if (WEB_SEARCH.test(type)) {
      if (out.webSearch) fail(`${p}.type`, 'only one web search tool can be given');
      out.webSearch = webSearchOptions(t, p, i, warnings);
      if (out.webSearch) out.echo.push(t);
    } else {
      warnings.push(`The hosted tool ${JSON.stringify(type)} (tools[${i}]) is not offered by this route's upstreams and was dropped.`);
    }
  });
  return out;
}

/** A tool call's name as the client declared it: `{ name, namespace }` for a namespaced tool. */
export function clientToolName(names: ToolNames, flat: string): { name: string; namespace?: string } {
  const origin = names.get(flat);
  return origin ? { name: origin.name, namespace: origin.namespace } : { name: flat };
}
