/**
 * What a provider adapter is. One adapter per wire protocol; each configured provider is a
 * ProviderInstance (data) bound to one adapter through the registry.
 */
import type { ChatRequest, CompletionRequest, EmbeddingRequest } from '../spec/request.ts';
import type { ChatResult, EmbeddingResult, StreamEvent } from '../spec/response.ts';
import type { UpstreamResponse } from './http-client.ts';
import type { StreamWatch, UpstreamTimeouts } from './deadlines.ts';
import type { OpenAIStreamReader } from './openai-compatible/stream-reader.ts';

/**
 * The wire protocols Freeway speaks upstream, by the name a config file gives each (`type:`): the
 * one list of them (the registry has one adapter for each).
 */
export const PROTOCOL_OF_TYPE = { 'openai-compatible': 'openai', anthropic: 'anthropic', gemini: 'gemini' } as const;
export type ProviderType = keyof typeof PROTOCOL_OF_TYPE;
export type Protocol = (typeof PROTOCOL_OF_TYPE)[ProviderType];
/** The config names, in order: `openai-compatible`, `anthropic`, `gemini`. */
export const PROVIDER_TYPES = Object.keys(PROTOCOL_OF_TYPE) as [ProviderType, ...ProviderType[]];

/** Differences among OpenAI-compatible servers, as data. */
export interface OpenAIQuirks {
  /** Send `max_completion_tokens` instead of `max_tokens` (OpenAI's reasoning models require it). */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Supports `stream_options.include_usage`. */
  streamUsage?: boolean;
  /** Request fields this server rejects; dropped with a warning. */
  unsupportedParams?: string[];
  /** How the server takes reasoning: OpenAI `reasoning_effort`, OpenRouter `reasoning`, or none. */
  reasoningParam?: 'reasoning_effort' | 'reasoning' | 'none';
  /** Field name in which the server returns reasoning text (`reasoning_content` for DeepSeek, vLLM). */
  reasoningField?: string;
  /** Auth header style: `bearer` (default), `api-key` (Azure), or none (local servers). */
  auth?: 'bearer' | 'api-key' | 'none';
  /** Continues a trailing assistant message instead of starting a new turn (mid-stream failover needs it). */
  continuesAssistantTurn?: boolean;
  /** Extra query string (Azure's `api-version`). */
  query?: Record<string, string>;
  /** Keeps `cache_control` on content parts and tools (servers that forward it to Anthropic). */
  cacheControl?: boolean;
  /** Accepts and returns OpenRouter's `reasoning_details` (replayed verbatim). */
  reasoningDetails?: boolean;
  /** Wants the assistant's reasoning text sent back in `reasoningField` on later turns. */
  replayReasoning?: boolean;
  /** Accepts `top_k`, `min_p`, `top_a`, `repetition_penalty` (vLLM, llama.cpp, OpenRouter...). */
  extraSampling?: boolean;
  /**
   * Takes OpenAI's own request options (`prediction`, `modalities`/`audio`, `verbosity`,
   * `service_tier`, `prompt_cache_key`, `web_search_options`, `metadata`: providers/field-policy.ts).
   * Without it they are dropped with a warning (OpenAI, Azure and OpenRouter have it).
   */
  openAIOptions?: boolean;
  /**
   * Takes `web_search_options` only on the models whose id matches this pattern (OpenAI searches
   * the web on chat completions only with its search models, and refuses the option with a 400 on
   * any other): elsewhere it is dropped with a warning. Without it, the option goes to every model.
   */
  webSearchModels?: string;
  /**
   * Refuses top-level fields it does not document, as OpenAI does: a request's unknown pass-through
   * fields are dropped with a warning instead of sent (and refused upstream).
   */
  strictFields?: boolean;
}

export interface ProviderInstance {
  /** Slug used in model refs (`openai`, `groq`, `local`). */
  id: string;
  /** Human name (`OpenAI`, `Groq`), shown as `provider` in responses. */
  name: string;
  protocol: Protocol;
  baseUrl: string;
  apiKey?: string;
  /** Extra headers sent on every request. */
  headers: Record<string, string>;
  quirks: OpenAIQuirks;
  /** Whether the provider may store or train on prompts (config; `allow` when unsaid). */
  dataCollection?: 'allow' | 'deny';
}

export interface Target {
  provider: ProviderInstance;
  /** The upstream's own model id. */
  model: string;
  /** The model's output cap from the catalog, for protocols that require `max_tokens`. */
  maxOutputTokens?: number;
  /** False when the catalog says the model takes no reasoning parameters (field-policy.ts fitReasoning). */
  reasoning?: boolean;
}

export interface CallContext {
  /** Aborted when the client goes away or at the request's total deadline. */
  signal: AbortSignal;
  /** Each attempt's connect, first-token and idle deadlines (deadlines.ts). */
  timeouts?: UpstreamTimeouts;
  /** Where the reader of a streamed answer reports its events, for the deadlines that count them. */
  watch?: StreamWatch;
}

/** A streamed completion in OpenAI's chat-completion-chunk format, unread, with the reader for its chunks. */
export interface ChatChunkStream {
  body: UpstreamResponse['body'];
  reader: OpenAIStreamReader;
  /** What the adapter dropped or rewrote in the request (the `warnings` event of an event stream). */
  warnings?: string[];
}

export interface ProviderAdapter {
  readonly protocol: Protocol;
  /**
   * The request parameters this provider (an instance of the adapter's protocol, with its quirks)
   * forwards or translates, in OpenRouter's `supported_parameters` vocabulary: the adapter's own
   * table (its folder's `parameters.ts`), before an endpoint's capabilities narrow it
   * (router/plan/parameters.ts).
   */
  parameters(provider: ProviderInstance): readonly string[];
  /** Whether this provider continues a trailing (partial) assistant message where it left off. */
  continuesAssistantTurn(provider: ProviderInstance): boolean;
  /** One whole completion. Throws a GatewayError on failure. */
  chat(req: ChatRequest, target: Target, ctx: CallContext): Promise<ChatResult>;
  /**
   * A streamed completion. The promise settles once the upstream has accepted the request (2xx
   * headers) and rejects with a GatewayError otherwise, so callers can still fall back or answer
   * with a real status. After that, failures arrive as `error` events.
   */
  chatStream(req: ChatRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>>;
  /**
   * Like `chatStream`, but the answer is left in the upstream's own chat-completion-chunk format,
   * for a chat-completions client to be sent the chunks themselves (same-format passthrough). Only
   * adapters whose wire format is OpenAI chat have it.
   */
  chatChunkStream?(req: ChatRequest, target: Target, ctx: CallContext): Promise<ChatChunkStream>;
  /**
   * Legacy raw-prompt completion, for protocols that have one. Doors fall back to `chat` with the
   * prompt as a user message when an adapter lacks it.
   */
  complete?(req: CompletionRequest, target: Target, ctx: CallContext): Promise<ChatResult>;
  completeStream?(req: CompletionRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>>;
  embed?(req: EmbeddingRequest, target: Target, ctx: CallContext): Promise<EmbeddingResult>;
  /** Model ids the provider currently serves, from its own list endpoint. */
  listModels?(provider: ProviderInstance, signal: AbortSignal): Promise<string[]>;
  /**
   * Sends a body already in this protocol's own wire format, unchanged, to `path` under the
   * provider's base URL (a front door of the same format passing a request through). `headers`
   * adds protocol headers from the client (Anthropic: `anthropic-beta`). Resolves with the 2xx
   * response unread; rejects with a GatewayError otherwise, like `chatStream`.
   */
  passthrough?(path: string, body: string, target: Target, ctx: CallContext, headers?: Record<string, string>): Promise<UpstreamResponse>;
}
