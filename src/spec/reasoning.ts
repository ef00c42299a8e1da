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

/** The field each type of detail carries its content in. */
const CONTENT_FIELD: Record<ReasoningDetail['type'], 'text' | 'data' | 'summary'> = {
  'reasoning.text': 'text',
  'reasoning.encrypted': 'data',
  'reasoning.summary': 'summary',
};

/**
 * What is wrong with `v` as a reasoning detail (the field, and why), or undefined when it is one.
 * Details come back from clients, replayed verbatim or inside Freeway's own `fw1.` encodings (which
 * a client can forge), and everything after the door reads them as this shape: a detail without
 * its text was a 500 from the prompt estimate, not a 400.
 */
export function reasoningDetailProblem(v: unknown, opts: { nullText?: boolean } = {}): { field?: string; message: string } | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { message: 'expected a reasoning detail object' };
  const d = v as Record<string, unknown>;
  const content = Object.hasOwn(CONTENT_FIELD, d.type as string) ? CONTENT_FIELD[d.type as ReasoningDetail['type']] : undefined;
  if (!content) return { field: 'type', message: 'expected one of "reasoning.text", "reasoning.encrypted", "reasoning.summary"' };
  // OpenRouter's reasoning.text may carry `text: null` (a signature without readable thinking): taken
  // where clients send OpenRouter's details (`nullText`), never inside Freeway's own encodings.
  const nullable = opts.nullText === true && content === 'text' && d.text === null;
  if (typeof d[content] !== 'string' && !nullable)
    return { field: content, message: `a ${String(d.type)} detail needs its ${content} as a string` };
  for (const k of ['signature', 'id', 'format']) {
    if (d[k] !== undefined && d[k] !== null && typeof d[k] !== 'string') return { field: k, message: 'expected a string or null' };
  }
  if (d.index !== undefined && !Number.isSafeInteger(d.index)) return { field: 'index', message: 'expected an integer' };
  return undefined;
}

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
