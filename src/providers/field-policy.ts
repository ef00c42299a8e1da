/**
 * The chat-completions door's policy for every top-level field, as data: who consumes it, and for
 * a field meant for the model, what each protocol's adapter does with it. The door's validator
 * knows its fields from here; the adapters forward, translate or drop the upstream options from
 * here, and a drop is always said out loud (a warning in the answer, streams included), because a
 * silent drop makes the caller believe the request was honoured.
 *
 * Vocabulary: the door's wire names (OpenAI's and OpenRouter's), which are also the keys of
 * `ChatRequest.upstreamOptions`.
 *
 * - `core`: modelled in ChatRequest and converted by each adapter's own code (sampling, tools...).
 * - `freeway`: consumed by Freeway itself (routing, accounting, observability); never forwarded.
 * - `upstream`: an option for the model, kept as the client wrote it in `upstreamOptions`, and per
 *   protocol: `forward` (sent as is), `translate` (the adapter maps it to the native equivalent,
 *   see `reason`), `drop` (not sent, with a warning), `ignore` (not sent, no warning: it asks
 *   nothing of this upstream, e.g. a header addressed to Anthropic only). On the `openai` protocol,
 *   `forward` goes to servers that take OpenAI's own options (quirk `openAIOptions`: OpenAI, Azure,
 *   OpenRouter); any other OpenAI-compatible server gets a warning instead.
 */
import type { ChatRequest, ReasoningRequest } from '../spec/request.ts';
import type { Protocol, Target } from './types.ts';

/** The parameters every adapter forwards or translates (OpenRouter's vocabulary). */
export const COMMON_PARAMETERS = [
  'max_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'response_format',
  'structured_outputs',
  'seed',
] as const;

export type Treatment = 'forward' | 'translate' | 'drop' | 'ignore';

export type FieldPolicy =
  | { by: 'core'; reason?: string }
  | { by: 'freeway'; reason: string }
  | ({
      by: 'upstream';
      reason: string;
      /** Values that ask nothing of the model (`store: false`): never worth a warning when dropped. */
      neutral?: readonly unknown[];
    } & Record<Protocol, Treatment>);

/** Every top-level field of `POST /chat/completions` (and the shared fields of `/completions`). */
export const CHAT_FIELDS = {
  model: { by: 'core' },
  messages: { by: 'core' },
  stream: { by: 'core' },
  max_tokens: { by: 'core' },
  max_completion_tokens: { by: 'core' },
  temperature: { by: 'core' },
  top_p: { by: 'core' },
  top_k: { by: 'core' },
  frequency_penalty: { by: 'core' },
  presence_penalty: { by: 'core' },
  repetition_penalty: { by: 'core' },
  min_p: { by: 'core' },
  top_a: { by: 'core' },
  seed: { by: 'core' },
  logit_bias: { by: 'core' },
  logprobs: { by: 'core' },
  top_logprobs: { by: 'core' },
  stop: { by: 'core' },
  tools: { by: 'core' },
  tool_choice: { by: 'core' },
  parallel_tool_calls: { by: 'core' },
  response_format: { by: 'core' },
  reasoning: { by: 'core' },
  reasoning_effort: { by: 'core' },
  include_reasoning: { by: 'core' },
  cache_control: { by: 'core' },
  n: { by: 'core', reason: 'only n = 1 (each extra choice is generated and billed upstream)' },
  user: { by: 'core', reason: 'OpenAI `user`; Anthropic `metadata.user_id`' },
  stream_options: {
    by: 'core',
    reason: 'usage is always returned (Freeway asks upstreams for it itself); include_usage puts it on a chunk of its own, as OpenAI does',
  },

  models: { by: 'freeway', reason: 'fallback model list' },
  provider: { by: 'freeway', reason: 'routing preferences' },
  route: { by: 'freeway', reason: 'deprecated alias of provider.sort.partition' },
  session_id: { by: 'freeway', reason: 'sticky routing and the generation record' },
  usage: { by: 'freeway', reason: 'deprecated no-op: usage is always returned' },
  transforms: { by: 'freeway', reason: 'legacy plugins; middle-out is not implemented (warned)' },
  // The rule is doors/plugins.ts, which the Messages door shares.
  plugins: { by: 'freeway', reason: "OpenRouter's plugins: an unknown id is a 400, the ones Freeway lacks are warned" },
  trace: { by: 'freeway', reason: "observability metadata for OpenRouter's broadcast; Freeway has none, and it asks nothing of the model" },
  debug: { by: 'freeway', reason: 'echo_upstream_body is not implemented (warned)' },
  preset: { by: 'freeway', reason: 'Freeway has no stored presets (warned)' },
  prompt: { by: 'freeway', reason: "OpenRouter's legacy raw prompt on chat; unused when messages is given" },

  prediction: { by: 'upstream', openai: 'forward', anthropic: 'drop', gemini: 'drop', reason: 'predicted outputs: OpenAI only' },
  modalities: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'drop',
    gemini: 'drop',
    neutral: [['text']],
    reason: 'output modalities: a text-only answer is what Anthropic and Gemini give anyway',
  },
  audio: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'drop',
    gemini: 'drop',
    reason: 'audio output settings: OpenAI only (with modalities)',
  },
  verbosity: { by: 'upstream', openai: 'forward', anthropic: 'drop', gemini: 'drop', reason: 'answer length hint: OpenAI only' },
  service_tier: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'translate',
    gemini: 'translate',
    reason:
      'Anthropic: auto/priority → `auto`, default → `standard_only`; flex and scale have no equivalent (dropped with a warning). ' +
      'Gemini: auto and default are what it does anyway; any other tier is dropped with a warning',
  },
  prompt_cache_key: {
    by: 'upstream',
    openai: 'forward',
    // A hint, not a request: Anthropic and Gemini cache by prefix without one, and Freeway's sticky
    // routing on it keeps a conversation on one endpoint, so nothing the caller asked for is lost
    // (Codex sends one every turn: a warning on each would be noise).
    anthropic: 'ignore',
    gemini: 'ignore',
    reason: "OpenAI's cache routing key; Freeway also routes stickily on it",
  },
  web_search_options: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'translate',
    gemini: 'translate',
    reason:
      "OpenAI's search models' native web search. Anthropic: its `web_search` server tool (user_location as is; " +
      'search_context_size low → max_uses 1). Gemini: its `google_search` tool (no location or size: warned). ' +
      'The searches are charged as the provider bills them (providers/web-search.ts)',
  },
  metadata: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'drop',
    gemini: 'drop',
    reason: "OpenAI's stored-completion tags; Anthropic's metadata holds only user_id (which `user` feeds)",
  },
  store: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'drop',
    gemini: 'drop',
    neutral: [false],
    reason: "OpenAI's stored completions; nothing stores answers elsewhere",
  },
  safety_identifier: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'translate',
    gemini: 'drop',
    reason: "end-user id for abuse detection: Anthropic's metadata.user_id when `user` does not set it",
  },
  prompt_cache_retention: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'drop',
    gemini: 'drop',
    reason: "OpenAI's prompt cache lifetime; Anthropic's is per block (cache_control.ttl)",
  },
  functions: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'drop',
    gemini: 'drop',
    reason: "OpenAI's deprecated function calling (tools replaced it); not translated",
  },
  function_call: {
    by: 'upstream',
    openai: 'forward',
    anthropic: 'drop',
    gemini: 'drop',
    reason: "OpenAI's deprecated function calling (tool_choice replaced it); not translated",
  },
  'x-anthropic-beta': {
    by: 'upstream',
    openai: 'ignore',
    anthropic: 'translate',
    gemini: 'ignore',
    reason: "request header: Anthropic's beta features, sent to Anthropic upstreams as `anthropic-beta`",
  },
} as const satisfies Record<string, FieldPolicy>;

export type ChatField = keyof typeof CHAT_FIELDS;

/** The fields the model is meant to receive, forwarded, translated or dropped per protocol. */
export type UpstreamOption = { [K in ChatField]: (typeof CHAT_FIELDS)[K] extends { by: 'upstream' } ? K : never }[ChatField];

export const UPSTREAM_OPTIONS = (Object.keys(CHAT_FIELDS) as ChatField[]).filter(
  (k): k is UpstreamOption => CHAT_FIELDS[k].by === 'upstream',
);

export function isChatField(name: string): name is ChatField {
  return Object.hasOwn(CHAT_FIELDS, name);
}

export function isUpstreamOption(name: string): name is UpstreamOption {
  return isChatField(name) && CHAT_FIELDS[name].by === 'upstream';
}

export function treatment(option: UpstreamOption, protocol: Protocol): Treatment {
  return CHAT_FIELDS[option][protocol];
}

export type UpstreamOptions = Partial<Record<UpstreamOption, unknown>>;

/**
 * What an adapter of `protocol` does with a request's upstream options: the ones to forward as
 * they are, the ones its own code translates, and a warning for each one dropped.
 */
export function sortOptions(
  protocol: Protocol,
  options: Readonly<Record<string, unknown>> | undefined,
  warnings: string[],
  providerName: string,
): { forward: UpstreamOptions; translate: UpstreamOptions } {
  const forward: UpstreamOptions = {};
  const translate: UpstreamOptions = {};
  for (const [k, v] of Object.entries(options ?? {})) {
    if (v === undefined || !isUpstreamOption(k)) continue;
    switch (treatment(k, protocol)) {
      case 'forward':
        forward[k] = v;
        break;
      case 'translate':
        translate[k] = v;
        break;
      case 'drop':
        if (!isNeutral(k, v)) warnings.push(dropWarning(k, providerName));
        break;
      case 'ignore':
        break;
    }
  }
  return { forward, translate };
}

/** Whether a value asks nothing of the model (`store: false`, `modalities: ["text"]`): dropped, it needs no warning. */
export function isNeutral(option: UpstreamOption, value: unknown): boolean {
  const policy: FieldPolicy = CHAT_FIELDS[option];
  return policy.by === 'upstream' && policy.neutral?.some((n) => JSON.stringify(n) === JSON.stringify(value)) === true;
}

export function dropWarning(field: string, providerName: string, why?: string): string {
  return `${field} is not supported by ${providerName} and was not sent${why ? `: ${why}` : ''}.`;
}

/**
 * Whether a request's reasoning settings ask the model to reason. `include_reasoning: false` alone
 * (`{ exclude: true }`), effort `none` and `enabled: false` ask for no reasoning.
 */
export function asksForReasoning(r: ReasoningRequest | undefined): boolean {
  const onlyExclude = r?.exclude === true && r.effort === undefined && r.maxTokens === undefined && r.enabled === undefined;
  return r !== undefined && r.effort !== 'none' && r.enabled !== false && !onlyExclude;
}

/**
 * Reasoning parameters go only to models that can reason: where the catalog says the target
 * cannot (catalog/defaults.ts familyReasons, or the config), they are not sent — OpenAI refuses
 * `reasoning_effort` on such models — with a warning when they asked for reasoning. Every adapter
 * applies it before building its body.
 */
export function fitReasoning<R extends Pick<ChatRequest, 'reasoning'>>(req: R, target: Target, warnings: string[]): R {
  if (req.reasoning === undefined || target.reasoning !== false) return req;
  if (asksForReasoning(req.reasoning)) {
    warnings.push(`reasoning is not supported by ${target.model} and was not sent: the model answered without reasoning.`);
  }
  return { ...req, reasoning: undefined };
}
