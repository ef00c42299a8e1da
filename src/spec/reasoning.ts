/**
 * Reasoning details in OpenRouter's wire shape, used unchanged as the internal form because it was
 * designed to carry every provider's reasoning artefacts (signatures, encrypted blobs) losslessly.
 *
 * Where each provider's artefact lives:
 * - Anthropic thinking: `reasoning.text` with `text` + `signature`, format `anthropic-claude-v1`.
 * - Anthropic redacted_thinking: `reasoning.encrypted` with `data`, format `anthropic-claude-v1`.
 * - Gemini thought signature on a function call: `reasoning.encrypted` with `data` = signature and
 *   `id` = the tool call id, format `google-gemini-v1`; thought text: `reasoning.text`.
 * - OpenAI encrypted reasoning: `reasoning.encrypted`, format `openai-responses-v1`.
 */
export type ReasoningFormat = 'unknown' | 'openai-responses-v1' | 'anthropic-claude-v1' | 'google-gemini-v1' | (string & {});

export type ReasoningDetail =
  | {
      type: 'reasoning.text';
      text: string;
      signature?: string | null;
      id?: string | null;
      format?: ReasoningFormat | null;
      index?: number;
    }
  | {
      type: 'reasoning.encrypted';
      data: string;
      id?: string | null;
      format?: ReasoningFormat | null;
      index?: number;
    }
  | {
      type: 'reasoning.summary';
      summary: string;
      id?: string | null;
      format?: ReasoningFormat | null;
      index?: number;
    };

export const ANTHROPIC_FORMAT = 'anthropic-claude-v1';
export const GEMINI_FORMAT = 'google-gemini-v1';

/** Plain text of a list of details, for `message.reasoning`. */
export function reasoningText(details: readonly ReasoningDetail[]): string {
  let out = '';
  for (const d of details) {
    if (d.type === 'reasoning.text') out += d.text;
    else if (d.type === 'reasoning.summary') out += d.summary;
  }
  return out;
}
