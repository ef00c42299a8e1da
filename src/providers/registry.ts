/**
 * Adapters by wire protocol. A provider instance finds its adapter here; nothing else in the code
 * asks which provider it is talking to.
 */
import { anthropicAdapter } from './anthropic/adapter.ts';
import { geminiAdapter } from './google/adapter.ts';
import { openAICompatibleAdapter } from './openai-compatible/adapter.ts';
import type { ProviderAdapter, Protocol } from './types.ts';

export const ADAPTERS: Readonly<Record<Protocol, ProviderAdapter>> = {
  openai: openAICompatibleAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
};
