/**
 * Anthropic Messages API wire shapes (API version 2023-06-01). Request types are exact for what we
 * send; response types are lenient (every field optional, unknown fields allowed) because we read
 * whatever arrives and must not trust it.
 */

export interface WireCacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface WireTextBlock {
  type: 'text';
  text: string;
  cache_control?: WireCacheControl;
}

export type WireImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

export interface WireImageBlock {
  type: 'image';
  source: WireImageSource;
  cache_control?: WireCacheControl;
}

export type WireDocumentSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'text'; media_type: 'text/plain'; data: string }
  | { type: 'url'; url: string };

export interface WireDocumentBlock {
  type: 'document';
  source: WireDocumentSource;
  title?: string;
  cache_control?: WireCacheControl;
}

export interface WireToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
  cache_control?: WireCacheControl;
}

export interface WireToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: Array<WireTextBlock | WireImageBlock>;
  cache_control?: WireCacheControl;
}

export interface WireThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface WireRedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

export type WireUserBlock = WireTextBlock | WireImageBlock | WireDocumentBlock | WireToolResultBlock;
export type WireAssistantBlock = WireThinkingBlock | WireRedactedThinkingBlock | WireTextBlock | WireToolUseBlock;

export type WireMessage = { role: 'user'; content: WireUserBlock[] } | { role: 'assistant'; content: WireAssistantBlock[] };

export interface WireTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  cache_control?: WireCacheControl;
}

/** Anthropic's web search, a server tool: Anthropic runs the searches and bills each one. */
export interface WireWebSearchTool {
  type: 'web_search_20250305';
  name: 'web_search';
  max_uses?: number;
  user_location?: { type: 'approximate'; city?: string; region?: string; country?: string; timezone?: string };
}

export type WireToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface WireThinkingConfig {
  type: 'enabled';
  budget_tokens: number;
}

export interface MessagesRequestBody {
  model: string;
  max_tokens: number;
  messages: WireMessage[];
  system?: WireTextBlock[];
  tools?: (WireTool | WireWebSearchTool)[];
  tool_choice?: WireToolChoice;
  thinking?: WireThinkingConfig;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  service_tier?: 'auto' | 'standard_only';
  cache_control?: WireCacheControl;
  output_config?: { format: { type: 'json_schema'; schema: Record<string, unknown> } };
  stream?: boolean;
}

// ---- What we read (lenient) ----

export interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
  server_tool_use?: { web_search_requests?: number | null; web_fetch_requests?: number | null } | null;
  [key: string]: unknown;
}

export interface WireResponseBlock {
  type?: string;
  text?: unknown;
  thinking?: unknown;
  signature?: unknown;
  data?: unknown;
  id?: unknown;
  name?: unknown;
  input?: unknown;
  [key: string]: unknown;
}

export interface WireMessageResponse {
  id?: string;
  type?: string;
  role?: string;
  model?: string;
  content?: WireResponseBlock[] | null;
  stop_reason?: string | null;
  stop_sequence?: string | null;
  usage?: WireUsage | null;
  [key: string]: unknown;
}

export interface WireStreamDelta {
  type?: string;
  text?: unknown;
  thinking?: unknown;
  signature?: unknown;
  partial_json?: unknown;
  stop_reason?: string | null;
  stop_sequence?: string | null;
  [key: string]: unknown;
}

export interface WireStreamEvent {
  type?: string;
  message?: WireMessageResponse;
  index?: number;
  content_block?: WireResponseBlock;
  delta?: WireStreamDelta;
  usage?: WireUsage | null;
  error?: { type?: string; message?: string } | null;
  [key: string]: unknown;
}
