/**
 * What neither the price data nor models.dev says: output caps, input modalities and whether the
 * model reasons, by model family (used only where the data is silent), overridable per model in the config.
 */
import type { Modality } from './types.ts';

interface FamilyRule {
  test: RegExp;
  maxOutputTokens: number;
  inputModalities: Modality[];
}

const VISION_DOCS: Modality[] = ['text', 'image', 'file'];
const VISION: Modality[] = ['text', 'image'];
const TEXT: Modality[] = ['text'];

// Order matters: the first rule that matches wins.
const RULES: readonly FamilyRule[] = [
  { test: /claude-3-(haiku|opus|sonnet)(?!-4)/, maxOutputTokens: 4_096, inputModalities: VISION_DOCS },
  { test: /claude-3[-.]5/, maxOutputTokens: 8_192, inputModalities: VISION_DOCS },
  { test: /claude-(opus-4|4-opus)/, maxOutputTokens: 32_000, inputModalities: VISION_DOCS },
  { test: /claude/, maxOutputTokens: 64_000, inputModalities: VISION_DOCS },
  { test: /gemini/, maxOutputTokens: 65_536, inputModalities: ['text', 'image', 'file', 'audio', 'video'] },
  { test: /gpt-5|^o\d/, maxOutputTokens: 128_000, inputModalities: VISION_DOCS },
  { test: /gpt-4\.1/, maxOutputTokens: 32_768, inputModalities: VISION_DOCS },
  { test: /gpt-4o/, maxOutputTokens: 16_384, inputModalities: VISION_DOCS },
  { test: /grok-4|pixtral|llama-4|vision|-vl/, maxOutputTokens: 16_384, inputModalities: VISION },
];

export function familyDefaults(modelId: string): { maxOutputTokens: number | null; inputModalities: Modality[] } {
  const id = modelId.toLowerCase();
  for (const r of RULES) if (r.test.test(id)) return { maxOutputTokens: r.maxOutputTokens, inputModalities: r.inputModalities };
  return { maxOutputTokens: null, inputModalities: TEXT };
}

/**
 * Families that take no reasoning parameters: OpenAI refuses `reasoning_effort` there ("not
 * supported with this model"), Anthropic refuses `thinking` on Claude 3.5 and older, Gemini 2.0 and
 * older have no thinking budget.
 */
const NO_REASONING = new RegExp(
  [
    'gpt-4o',
    'gpt-4\\.1',
    'gpt-4-',
    'gpt-4$',
    'gpt-3\\.5',
    'gpt-5(\\.\\d+)?-chat',
    'claude-3-(haiku|opus|sonnet)',
    'claude-3[-.]5',
    'claude-2',
    'claude-instant',
    'gemini-1\\.',
    'gemini-2\\.0',
    'gemini-pro',
  ].join('|'),
);
/** Families that reason (OpenAI's o-series and GPT-5, Claude 3.7 and later, Gemini 2.5 and later). */
const REASONING = /^o\d|gpt-5|claude|gemini|deepseek-r1|deepseek-reasoner/;

/**
 * Whether a model can reason: false where its family is known not to (reasoning parameters are
 * then dropped with a warning, never sent), true where it is known to, undefined when unknown
 * (sent, as the client asked).
 */
export function familyReasons(modelId: string): boolean | undefined {
  const id = modelId.toLowerCase().replace(/^[^/]*\//, '');
  if (NO_REASONING.test(id)) return false;
  return REASONING.test(id) ? true : undefined;
}

export function isEmbeddingModel(modelId: string): boolean {
  return /embed/i.test(modelId);
}
