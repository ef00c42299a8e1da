/**
 * The Responses door's `tools`: function tools as they are; `namespace` tools (a named group of
 * function tools, as Codex sends) flattened to function tools named `namespace__name`, mapped back
 * on the way out so names round-trip; hosted tools (`web_search`, `file_search`, ...) run by
 * OpenAI's own Responses servers, which no upstream of this door is: dropped with a warning the
 * client sees, so the model simply does not get them.
 */
import type { ToolDefinition } from '../../spec/request.ts';
import { arr, bool, fail, obj, opt, str } from '../validate.ts';
import type { Obj } from '../validate.ts';

/** A flattened tool name → the client's namespace and name. */
export type ToolNames = Map<string, { namespace: string; name: string }>;

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const SEPARATOR = '__';

export interface ParsedTools {
  tools: ToolDefinition[];
  names: ToolNames;
  /** The tools the response repeats back: what the model was offered, as the client wrote it. */
  echo: Obj[];
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
