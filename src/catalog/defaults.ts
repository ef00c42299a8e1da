/**
 * What the price catalog does not say: output caps and input modalities. Rules by model family,
 * overridable per model in the config.
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

export function isEmbeddingModel(modelId: string): boolean {
  return /embed/i.test(modelId);
}
