/**
 * The reviewed rules that map a provider's own model ids to canonical ones (OpenRouter's
 * `author/slug` namespace) where the data (./generated) does not say it by itself. Data, not code:
 * src/catalog/canonical.ts reads it the same way for every provider. Keep each entry justified by
 * the provider's own documentation of what the id serves.
 */

export interface CanonicalRules {
  /** Path prefixes a provider puts before its model ids (Fireworks' `accounts/fireworks/models/`). */
  stripPrefixes: Readonly<Record<string, readonly string[]>>;
  /** Spelling a provider uses in its ids, as regular-expression rewrites (Fireworks writes `v3p3` for `v3.3`). */
  rewrites: Readonly<Record<string, ReadonlyArray<{ pattern: string; replace: string }>>>;
  /**
   * Suffixes hosts add to an open model's id that name their serving, not another model; each with
   * the weights precision it implies, when it implies one.
   */
  hostSuffixes: ReadonlyArray<{ suffix: string; quantization: string | null }>;
  /** The author of the models a host serves under bare ids (Azure OpenAI's `gpt-4o` is OpenAI's). */
  hostedAuthor: Readonly<Record<string, string>>;
  /** Provider id → its model id → the canonical id, for ids no pattern above reaches. */
  ids: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** How OpenRouter spells each author in a model's display name (`Meta: Llama 3.3 70B Instruct`). */
  authors: Readonly<Record<string, string>>;
}

export const CANONICAL_RULES: CanonicalRules = {
  stripPrefixes: {
    fireworks: ['accounts/fireworks/models/', 'accounts/fireworks/routers/'],
  },
  rewrites: {
    fireworks: [{ pattern: '(\\d)p(\\d)', replace: '$1.$2' }],
  },
  hostSuffixes: [
    { suffix: '-turbo', quantization: null },
    { suffix: '-fp8', quantization: 'fp8' },
    { suffix: '-fp4', quantization: 'fp4' },
    { suffix: '-bf16', quantization: 'bf16' },
  ],
  hostedAuthor: {
    // https://learn.microsoft.com/azure/ai-services/openai/concepts/models
    azure: 'openai',
  },
  ids: {
    // https://console.groq.com/docs/models
    groq: {
      'llama-3.3-70b-versatile': 'meta-llama/llama-3.3-70b-instruct',
      'llama-3.1-8b-instant': 'meta-llama/llama-3.1-8b-instruct',
      'meta-llama/llama-4-maverick-17b-128e-instruct': 'meta-llama/llama-4-maverick',
      'meta-llama/llama-4-scout-17b-16e-instruct': 'meta-llama/llama-4-scout',
      'moonshotai/kimi-k2-instruct': 'moonshotai/kimi-k2',
    },
    // https://inference-docs.cerebras.ai/models/overview
    cerebras: {
      'llama-3.3-70b': 'meta-llama/llama-3.3-70b-instruct',
      'llama3.1-8b': 'meta-llama/llama-3.1-8b-instruct',
      'qwen-3-32b': 'qwen/qwen3-32b',
    },
    // https://docs.together.ai/docs/serverless-models
    together: {
      'meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo': 'meta-llama/llama-3.1-8b-instruct',
      'meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8': 'meta-llama/llama-4-maverick',
      'meta-llama/Llama-4-Scout-17B-16E-Instruct': 'meta-llama/llama-4-scout',
      'deepseek-ai/DeepSeek-V3': 'deepseek/deepseek-chat',
      'deepseek-ai/DeepSeek-R1': 'deepseek/deepseek-r1',
      'moonshotai/Kimi-K2-Instruct': 'moonshotai/kimi-k2',
    },
    // https://fireworks.ai/models (ids after accounts/fireworks/models/)
    fireworks: {
      'llama-v3p3-70b-instruct': 'meta-llama/llama-3.3-70b-instruct',
      'llama-v3p1-8b-instruct': 'meta-llama/llama-3.1-8b-instruct',
      'llama4-maverick-instruct-basic': 'meta-llama/llama-4-maverick',
      'deepseek-r1-0528': 'deepseek/deepseek-r1-0528',
      'deepseek-v3-0324': 'deepseek/deepseek-chat-v3-0324',
    },
    // https://docs.x.ai/docs/models
    xai: {
      'grok-4-0709': 'x-ai/grok-4',
    },
  },
  authors: {
    anthropic: 'Anthropic',
    openai: 'OpenAI',
    google: 'Google',
    'meta-llama': 'Meta',
    mistralai: 'Mistral',
    'x-ai': 'xAI',
    deepseek: 'DeepSeek',
    qwen: 'Qwen',
    moonshotai: 'MoonshotAI',
    'z-ai': 'Z.ai',
    nvidia: 'NVIDIA',
    microsoft: 'Microsoft',
    perplexity: 'Perplexity',
    cohere: 'Cohere',
    amazon: 'Amazon',
  },
};
