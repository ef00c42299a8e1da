/**
 * The catalog's data: models, the endpoints that serve them, and their prices.
 */
import type { ProviderInstance } from '../providers/types.ts';

/** A processing tier whose price differs from the standard one (catalog/service-tiers.ts). */
export type PricedTier = 'flex' | 'priority';

/** Femto-dollars (1e-15 USD) per token; `request` is per request. */
export interface Pricing {
  prompt: bigint;
  completion: bigint;
  cacheRead?: bigint;
  cacheWrite?: bigint;
  /** Reasoning tokens, when priced apart from completion tokens. */
  reasoning?: bigint;
  request?: bigint;
  image?: bigint;
  /** Per web search the upstream runs itself (Anthropic's server tool, Gemini 3's Google Search queries). */
  webSearch?: bigint;
  /** Per request whose answer searched the web at all (Gemini 2.5 and older bill grounding per prompt). */
  groundedPrompt?: bigint;
  /**
   * The price when the upstream says it served the request at another tier (OpenAI's `flex`,
   * `priority`): what the answer's `service_tier` names is what is charged.
   */
  tiers?: Partial<Record<PricedTier, Pricing>>;
}

export const FREE: Pricing = { prompt: 0n, completion: 0n };

export type Modality = 'text' | 'image' | 'file' | 'audio' | 'video';

export interface Endpoint {
  provider: ProviderInstance;
  /** The upstream's model id. */
  upstreamModel: string;
  pricing: Pricing;
  /** Marked `free: true` by the operator: serves the model's `:free` variant, under free-tier allowances. */
  free: boolean;
  /**
   * No price is known for it (not in the price catalog, none configured) on a provider Freeway
   * pays with a key: it is not served until the operator sets `pricing` or `free: true`, rather
   * than serve paid work for nothing. (A keyless local server's models are free.)
   */
  unpriced?: boolean;
  contextLength: number | null;
  maxOutputTokens: number | null;
  /** Weights precision when known (`fp8`, `bf16`, ...). */
  quantization: string | null;
  /** Whether the provider may store or train on prompts (`deny` = it does not). */
  dataCollection: 'allow' | 'deny';
  supportsTools: boolean;
  supportsStructuredOutputs: boolean;
  /**
   * Whether the model takes reasoning parameters (catalog/defaults.ts familyReasons, or the config):
   * false drops them with a warning and leaves `reasoning` out of its supported parameters;
   * absent when unknown (they are sent).
   */
  supportsReasoning?: boolean;
}

export interface CatalogModel {
  /** Public id, `author/slug` (`openai/gpt-4o-mini`, `meta-llama/llama-3.3-70b-instruct`). */
  id: string;
  name: string;
  description: string;
  /** Unix seconds. */
  created: number;
  kind: 'chat' | 'embedding';
  contextLength: number | null;
  maxOutputTokens: number | null;
  inputModalities: Modality[];
  /** OpenRouter's use-case categories (`programming`, `roleplay`...), where the data has them (`GET /models?category=`). */
  categories?: string[];
  endpoints: Endpoint[];
  /** What it answers in (`['text']`, `['embeddings']`, `['text', 'image']`), from the data; absent before it was known. */
  outputModalities?: Array<Modality | 'embeddings'>;
  /** `YYYY-MM` or `YYYY-MM-DD` when the data knows it, else null. */
  knowledgeCutoff?: string | null;
  /** The model's Hugging Face repository when the data names one, else null. */
  huggingFaceId?: string | null;
  /** When the model is retired (`YYYY-MM-DD`), when the data says, else null. */
  expirationDate?: string | null;
  /** Tokenizer family and chat template when the data says, else null (never guessed from the name). */
  tokenizer?: string | null;
  instructType?: string | null;
  /** Whether the weights are published, when the data says. */
  openWeights?: boolean | null;
  /**
   * Set on a provider-pinned model (`groq/llama-3.3-70b-versatile`): the canonical model it is one
   * endpoint of. Pinned models are found by Catalog.get but not listed.
   */
  pinnedOf?: string;
  /** Other ids that name this model (Freeway's dashed `anthropic/claude-sonnet-4-5`, a provider's own `author/id`). */
  aliases?: string[];
}
