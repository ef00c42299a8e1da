/**
 * Every top-level field the Responses door accepts, and what becomes of it — the one place that
 * says so. Nothing in a request reaches an upstream by name: the door builds an internal
 * ChatRequest from the fields marked `use`, so a field the table does not list is a 400 (as on
 * OpenAI), and a field it lists is never forwarded as such.
 *
 *   use      translated into the internal request (or the stored conversation, or the echo)
 *   consume  meant for Freeway or for the client itself (`client_metadata` is Codex's own
 *            bookkeeping): validated, then used by Freeway or ignored; never forwarded
 *   drop     a request for something Freeway cannot give on this door: dropped, with a warning
 *            in the response (streams included) when the value asks for more than the default
 *   refuse   a feature that changes what the answer means (background jobs, server-side
 *            conversations, prompt templates): a 400 naming the field
 */
import { arr, int, obj, oneOf, str } from '../validate.ts';

export type FieldFate = 'use' | 'consume' | 'drop' | 'refuse';

interface FieldRule {
  fate: FieldFate;
  /** Type check for `consume` and `drop` fields (the `use` ones are parsed in parse-request.ts). */
  check?: (v: unknown, param: string) => unknown;
  /** `drop`, `refuse`: true when the value is what the upstream would do anyway (no warning then). */
  harmless?: (v: unknown) => boolean;
  /** `refuse`: the 400's message. */
  why?: string;
}

const isDefault = (...values: unknown[]) => (v: unknown) => v === null || values.includes(v);

export const RESPONSES_FIELDS: Readonly<Record<string, FieldRule>> = {
  // OpenAI's fields Freeway translates.
  model: { fate: 'use' },
  input: { fate: 'use' },
  instructions: { fate: 'use' },
  stream: { fate: 'use' },
  store: { fate: 'use' },
  previous_response_id: { fate: 'use' },
  metadata: { fate: 'use' },
  user: { fate: 'use' },
  safety_identifier: { fate: 'use' },
  tools: { fate: 'use' },
  tool_choice: { fate: 'use' },
  parallel_tool_calls: { fate: 'use' },
  max_output_tokens: { fate: 'use' },
  temperature: { fate: 'use' },
  top_p: { fate: 'use' },
  reasoning: { fate: 'use' },
  text: { fate: 'use' },
  // OpenAI's fields about the exchange with the client, not the generation.
  include: { fate: 'consume', check: (v, p) => arr(v, p).map((s, i) => str(s, `${p}[${i}]`)) }, // encrypted reasoning is always included
  stream_options: { fate: 'consume', check: obj },
  // Codex's bookkeeping (thread, turn, window ids): for the client's own logs, never the model's.
  client_metadata: { fate: 'consume', check: obj },
  // OpenAI's fields Freeway cannot honour through its internal request.
  truncation: { fate: 'drop', check: (v, p) => oneOf(v, p, ['auto', 'disabled'] as const), harmless: isDefault('disabled') },
  service_tier: { fate: 'drop', check: str, harmless: isDefault('auto', 'default') },
  prompt_cache_key: { fate: 'drop', check: str, harmless: () => true }, // a cache-routing hint: nothing is lost without it
  prompt_cache_retention: { fate: 'drop', check: str },
  prompt_cache_options: { fate: 'drop', check: obj },
  max_tool_calls: { fate: 'drop', check: (v, p) => int(v, p, 0) },
  top_logprobs: { fate: 'drop', check: (v, p) => int(v, p, 0, 20), harmless: isDefault(0) },
  context_management: { fate: 'drop', check: arr },
  moderation: { fate: 'drop', check: obj },
  background: { fate: 'refuse', harmless: isDefault(false), why: 'background responses are not supported by Freeway' },
  conversation: { fate: 'refuse', harmless: isDefault(), why: 'conversations are not supported by Freeway; use previous_response_id' },
  prompt: { fate: 'refuse', harmless: isDefault(), why: 'prompt templates are not supported by Freeway' },
  // OpenRouter's extensions.
  models: { fate: 'use' },
  provider: { fate: 'use' },
  session_id: { fate: 'use' },
  cache_control: { fate: 'use' },
  plugins: { fate: 'consume' },
  transforms: { fate: 'consume' },
  route: { fate: 'consume' },
  usage: { fate: 'consume' },
  trace: { fate: 'consume' },
  debug: { fate: 'consume' },
};

/** The fate of a field, or undefined for one the door does not know (a 400). */
export function fieldRule(name: string): FieldRule | undefined {
  return Object.hasOwn(RESPONSES_FIELDS, name) ? RESPONSES_FIELDS[name] : undefined;
}
