/**
 * The internal request model: every front door converts into it, every provider adapter converts
 * out of it. Field names are the gateway's own; wire names live in the doors and adapters.
 */
import type { ReasoningDetail } from './reasoning.ts';

export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextPart {
  type: 'text';
  text: string;
  cacheControl?: CacheControl;
}

/** An image, either by URL (https) or inline (base64 `data` with its media type). */
export interface ImagePart {
  type: 'image';
  url?: string;
  data?: string;
  mediaType?: string;
  detail?: 'auto' | 'low' | 'high' | 'original';
  cacheControl?: CacheControl;
}

/** A document (PDF and the like), inline base64 or by URL. */
export interface FilePart {
  type: 'file';
  url?: string;
  data?: string;
  mediaType: string;
  filename?: string;
  cacheControl?: CacheControl;
}

export interface AudioPart {
  type: 'audio';
  data: string;
  format: string;
}

export type UserPart = TextPart | ImagePart | FilePart | AudioPart;

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text exactly as the model produced it (may be partial or invalid; never re-serialised). */
  arguments: string;
}

export interface SystemMessage {
  role: 'system';
  content: TextPart[];
}

export interface UserMessage {
  role: 'user';
  content: UserPart[];
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  /** Visible text, in order. Empty when the turn was only tool calls. */
  content: TextPart[];
  toolCalls: ToolCall[];
  /**
   * Reasoning to replay verbatim: Anthropic thinking (with signature), redacted thinking,
   * Gemini thought signatures, OpenAI encrypted reasoning. Order is significant.
   */
  reasoning: ReasoningDetail[];
  /** Plain reasoning text a client sent back without details (`message.reasoning`). */
  reasoningText?: string;
}

export interface ToolMessage {
  role: 'tool';
  toolCallId: string;
  content: Array<TextPart | ImagePart>;
  name?: string;
}

export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  strict?: boolean;
  cacheControl?: CacheControl;
}

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      name: string;
      schema: Record<string, unknown>;
      strict?: boolean;
      description?: string;
    };

export type ReasoningEffort = 'max' | 'xhigh' | 'high' | 'medium' | 'low' | 'minimal' | 'none';

export interface ReasoningRequest {
  effort?: ReasoningEffort;
  maxTokens?: number;
  /** Think, but do not return the reasoning to the client. */
  exclude?: boolean;
  enabled?: boolean;
}

export interface SamplingParams {
  temperature?: number;
  topP?: number;
  topK?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  repetitionPenalty?: number;
  minP?: number;
  topA?: number;
  seed?: number;
  logitBias?: Record<string, number>;
  logprobs?: boolean;
  topLogprobs?: number;
}

export interface ChatRequest extends SamplingParams {
  /** The model ref the client asked for (`provider/model` or a catalog id). */
  model: string;
  messages: Message[];
  stream: boolean;
  maxTokens?: number;
  stop?: string[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  reasoning?: ReasoningRequest;
  /** Top-level (automatic) prompt caching, Anthropic-style. */
  cacheControl?: CacheControl;
  user?: string;
  /**
   * `stream_options.include_usage`: the client asked for usage as OpenAI sends it, on a chunk of
   * its own after the last choice. Only where the stream puts usage depends on it: usage is always
   * returned, and upstreams are always asked for it.
   */
  includeUsage?: boolean;
  /**
   * Options for the model in the door's wire vocabulary (`service_tier`, `prediction`, `metadata`,
   * `x-anthropic-beta`...), as the client wrote them (validated). Each adapter forwards, translates
   * or drops them as providers/field-policy.ts says.
   */
  upstreamOptions?: Record<string, unknown>;
  /** Pass-through fields for OpenAI-compatible upstreams (e.g. `safe_prompt`), unvalidated. */
  passthrough?: Record<string, unknown>;
}

/** Legacy `/completions`: a raw prompt instead of messages. */
export interface CompletionRequest extends Omit<ChatRequest, 'messages' | 'tools' | 'toolChoice' | 'parallelToolCalls'> {
  prompt: string;
}

export interface EmbeddingRequest {
  model: string;
  input: string[] | number[][];
  dimensions?: number;
  encodingFormat?: 'float' | 'base64';
  inputType?: string;
  user?: string;
}
