/**
 * Every top-level field the Responses door accepts, and what becomes of it — the one place that
 * says so. Nothing in a request reaches an upstream by name: the door builds an internal
 * ChatRequest from the fields marked `use`, so a field the table does not list is a 400 (as on
 * OpenAI), and a field it lists is never forwarded as such.
 *
 *   use      translated into the internal request (or the stored conversation, or the echo)
 *   upstream an option for the model with a chat-completions equivalent: handed to the adapters
 *            as the chat door's option of that name (`option`), so the chat door's field policy
 *            (providers/field-policy.ts) decides per upstream: forwarded to OpenAI, translated
 *            where a native equivalent exists, otherwise dropped with a warning
 *   consume  meant for Freeway or for the client itself (`client_metadata` is Codex's own
 *            bookkeeping): validated, then used by Freeway or ignored; never forwarded
 *   drop     a request for something Freeway cannot give on this door: dropped, with a warning
 *            in the response (streams included) when the value asks for more than the default
 *   refuse   a feature that changes what the answer means (background jobs, server-side
 *            conversations, prompt templates): a 400 naming the field
 */
import type { UpstreamOption } from '../../providers/field-policy.ts';
import { arr, int, obj, oneOf, str } from '../../spec/validate.ts';

export type FieldFate = 'use' | 'upstream' | 'consume' | 'drop' | 'refuse';

/** A chat door option this door can hand on (the one header-borne option has no Responses field). */
export type ResponsesOption = Exclude<UpstreamOption, 'x-anthropic-beta'>;

interface FieldRule {
  fate: FieldFate;
  /** Type check for `consume` and `drop` fields (the `use` ones are parsed in parse-request.ts). */
  check?: (v: unknown, param: string) => unknown;
  /** `drop`, `refuse`: true when the value is what the upstream would do anyway (no warning then). */
  harmless?: (v: unknown) => boolean;
  /** `refuse`: the 400's message. */
  why?: string;
  /** `upstream`: the chat door's option it becomes (validated as that door validates it). */
  option?: ResponsesOption;
}

const isDefault =
  (...values: unknown[]) =>
  (v: unknown) =>
    v === null || values.includes(v);

export const RESPONSES_FIELDS: Readonly<Record<string, FieldRule>> = {
  // OpenAI's fields Freeway translates.
  model: { fate: 'use' },
  input: { fate: 'use' },
  instructions: { fate: 'use' },
  stream: { fate: 'use' },
  store: { fate: 'use' }, // Freeway stores the response: never OpenAI's stored completions
  previous_response_id: { fate: 'use' },
  metadata: { fate: 'upstream', option: 'metadata' }, // also repeated in the response
  user: { fate: 'use' },
  safety_identifier: { fate: 'upstream', option: 'safety_identifier' },
  service_tier: { fate: 'upstream', option: 'service_tier' }, // the response reports the upstream's own tier
  prompt_cache_key: { fate: 'upstream', option: 'prompt_cache_key' }, // also Freeway's sticky-routing key
  // Function and namespace tools; a hosted `web_search` (`_preview`) tool becomes the option
  // `web_search_options` (parse-tools.ts); other hosted tools are dropped with a warning.
  tools: { fate: 'use' },
  tool_choice: { fate: 'use' },
  parallel_tool_calls: { fate: 'use' },
  max_output_tokens: { fate: 'use' },
  temperature: { fate: 'use' },
  top_p: { fate: 'use' },
  reasoning: { fate: 'use' },
  text: { fate: 'use' }, // `format` → response_format; `verbosity` → the option `verbosity` (as `upstream`)
  // OpenAI's fields about the exchange with the client, not the generation.
  include: { fate: 'consume', check: (v, p) => arr(v, p).map((s, i) => str(s, `${p}[${i}]`)) }, // encrypted reasoning is always included
  stream_options: { fate: 'consume', check: obj },
  // Codex's bookkeeping (thread, turn, window ids): for the client's own logs, never the model's.
  client_metadata: { fate: 'consume', check: obj },
  // OpenAI's fields Freeway cannot honour through its internal request.
  truncation: { fate: 'drop', check: (v, p) => oneOf(v, p, ['auto', 'disabled'] as const), harmless: isDefault('disabled') },
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
