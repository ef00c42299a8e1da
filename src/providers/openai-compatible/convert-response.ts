/**
 * OpenAI Chat Completions response → internal ChatResult. Read loosely: only the fields we use.
 */
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type { ToolCall } from '../../spec/request.ts';
import { emptyUsage } from '../../spec/response.ts';
import type { ChatResult } from '../../spec/response.ts';
import type { OpenAIQuirks } from '../types.ts';
import { convertOpenAIUsage } from './convert-usage.ts';
import { mapOpenAIFinishReason } from './map-finish-reason.ts';
import { bodyError } from './parse-error.ts';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Reasoning text from whichever field the server uses (`reasoning`, `reasoning_content`, ...). */
export function reasoningTextField(m: Obj, q: OpenAIQuirks): string | undefined {
  return str(m[q.reasoningField ?? 'reasoning']) ?? str(m.reasoning) ?? str(m.reasoning_content);
}

export function isReasoningDetail(v: unknown): v is ReasoningDetail {
  const t = obj(v).type;
  return t === 'reasoning.text' || t === 'reasoning.encrypted' || t === 'reasoning.summary';
}

export function convertOpenAIResponse(body: unknown, providerName: string, q: OpenAIQuirks): ChatResult {
  const b = obj(body);
  if (b.error) throw bodyError(providerName, b.error, 'returned an error');
  const choices = Array.isArray(b.choices) ? b.choices : [];
  const choice = obj(choices[0]);
  const m = obj(choice.message);
  const toolCalls: ToolCall[] = [];
  for (const tc of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
    const t = obj(tc);
    const f = obj(t.function);
    toolCalls.push({
      id: str(t.id) ?? `call_${toolCalls.length}`,
      name: str(f.name) ?? '',
      arguments: typeof f.arguments === 'string' ? f.arguments : JSON.stringify(f.arguments ?? {}),
    });
  }
  // Whether the body already says what the result says, in OpenRouter's shape.
  let verbatim =
    choices.length === 1 &&
    (choice.index === undefined || choice.index === 0) &&
    choice.text === undefined &&
    m.reasoning_content === undefined &&
    toolCalls.every((c, i) => {
      const t = obj((m.tool_calls as unknown[])[i]);
      return t.id === c.id && obj(t.function).name === c.name && obj(t.function).arguments === c.arguments;
    });
  let reasoning: ReasoningDetail[] = [];
  if (Array.isArray(m.reasoning_details)) {
    // OpenRouter's reasoning.text may say `text: null`; inside Freeway a detail's text is a string.
    reasoning = m.reasoning_details
      .filter(isReasoningDetail)
      .map((d) => (d.type === 'reasoning.text' && (d.text as string | null) === null ? { ...d, text: '' } : d));
    if (reasoning.length !== m.reasoning_details.length) verbatim = false;
  } else {
    const text = reasoningTextField(m, q);
    if (text) {
      reasoning = [{ type: 'reasoning.text', text, format: 'unknown' }];
      verbatim = false;
    }
  }
  return {
    ...(verbatim ? { openAIBody: b } : {}),
    upstreamId: str(b.id),
    text: str(m.content) ?? str(choice.text) ?? '',
    reasoning,
    toolCalls,
    refusal: str(m.refusal) ?? null,
    finish: mapOpenAIFinishReason(choice.finish_reason, toolCalls.length > 0),
    usage: convertOpenAIUsage(b.usage, b.service_tier) ?? emptyUsage(),
    ...(str(b.service_tier) !== undefined ? { serviceTier: str(b.service_tier) } : {}),
  };
}
