/**
 * Internal ChatRequest → OpenAI Chat Completions body, for every OpenAI-compatible server.
 * Differences between servers come from the provider's quirks, never from its name.
 */
import type { ChatRequest, Message, TextPart, UserPart, ToolMessage } from '../../spec/request.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import { effortForBudget } from '../../spec/reasoning-budget.ts';
import type { OpenAIQuirks } from '../types.ts';
import { dropWarning, isNeutral, sortOptions } from '../field-policy.ts';
import type { UpstreamOption } from '../field-policy.ts';

type Json = Record<string, unknown>;

function dataUrl(mediaType: string | undefined, data: string): string {
  return `data:${mediaType ?? 'application/octet-stream'};base64,${data}`;
}

function textOnly(parts: readonly TextPart[]): string {
  return parts.length === 1 ? parts[0].text : parts.map((p) => p.text).join('\n');
}

function cache(part: { cacheControl?: unknown }, q: OpenAIQuirks): Json {
  return q.cacheControl && part.cacheControl ? { cache_control: part.cacheControl } : {};
}

function convertPart(p: UserPart | TextPart, q: OpenAIQuirks): Json {
  switch (p.type) {
    case 'text':
      return { type: 'text', text: p.text, ...cache(p, q) };
    case 'image':
      return {
        type: 'image_url',
        image_url: { url: p.url ?? dataUrl(p.mediaType, p.data ?? ''), ...(p.detail ? { detail: p.detail } : {}) },
        ...cache(p, q),
      };
    case 'file':
      return {
        type: 'file',
        file: { filename: p.filename ?? 'file', file_data: p.url ?? dataUrl(p.mediaType, p.data ?? '') },
        ...cache(p, q),
      };
    case 'audio':
      return { type: 'input_audio', input_audio: { data: p.data, format: p.format } };
  }
}

/** A string when the content is plain text without cache hints (what every server accepts). */
function content(parts: ReadonlyArray<UserPart | TextPart>, q: OpenAIQuirks): string | Json[] {
  const plain = parts.every((p) => p.type === 'text' && !(q.cacheControl && p.cacheControl));
  if (plain) return textOnly(parts as TextPart[]);
  return parts.map((p) => convertPart(p, q));
}

function toolContent(m: ToolMessage, q: OpenAIQuirks): string | Json[] {
  return content(m.content, q);
}

function convertMessage(m: Message, q: OpenAIQuirks): Json {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: content(m.content, q) };
    case 'user':
      return { role: 'user', content: content(m.content, q), ...(m.name ? { name: m.name } : {}) };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: toolContent(m, q) };
    case 'assistant': {
      const out: Json = { role: 'assistant', content: m.content.length > 0 ? textOnly(m.content) : null };
      if (m.toolCalls.length > 0) {
        out.tool_calls = m.toolCalls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        }));
      }
      if (q.reasoningDetails && m.reasoning.length > 0) out.reasoning_details = m.reasoning;
      else if (q.reasoningField && q.replayReasoning) {
        const text = m.reasoningText ?? reasoningTextOf(m.reasoning);
        if (text) out[q.reasoningField] = text;
      }
      return out;
    }
  }
}

function reasoningTextOf(details: readonly ReasoningDetail[]): string {
  return details.map((d) => (d.type === 'reasoning.text' ? d.text : '')).join('');
}

const EXTRA_SAMPLING: ReadonlyArray<[keyof ChatRequest, string]> = [
  ['topK', 'top_k'],
  ['minP', 'min_p'],
  ['topA', 'top_a'],
  ['repetitionPenalty', 'repetition_penalty'],
];

const STANDARD_SAMPLING: ReadonlyArray<[keyof ChatRequest, string]> = [
  ['temperature', 'temperature'],
  ['topP', 'top_p'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['presencePenalty', 'presence_penalty'],
  ['seed', 'seed'],
  ['logitBias', 'logit_bias'],
  ['logprobs', 'logprobs'],
  ['topLogprobs', 'top_logprobs'],
];

/** Builds the body; `warnings` collects what had to be dropped. */
export function toOpenAIChatBody(req: ChatRequest, model: string, q: OpenAIQuirks, warnings: string[]): Json {
  const body: Json = { model, messages: req.messages.map((m) => convertMessage(m, q)) };
  if (req.stream) {
    body.stream = true;
    if (q.streamUsage !== false) body.stream_options = { include_usage: true };
  }
  if (req.maxTokens !== undefined) body[q.maxTokensField ?? 'max_tokens'] = req.maxTokens;
  for (const [from, to] of STANDARD_SAMPLING) if (req[from] !== undefined) body[to] = req[from];
  for (const [from, to] of EXTRA_SAMPLING) {
    if (req[from] === undefined) continue;
    if (q.extraSampling) body[to] = req[from];
    else warnings.push(`${to} is not supported by this provider and was dropped`);
  }
  if (req.stop) body.stop = req.stop;
  if (req.user) body.user = req.user;
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        parameters: t.parameters,
        ...(t.strict !== undefined ? { strict: t.strict } : {}),
      },
      ...cache(t, q),
    }));
  }
  if (req.toolChoice) {
    body.tool_choice = req.toolChoice.type === 'tool' ? { type: 'function', function: { name: req.toolChoice.name } } : req.toolChoice.type;
  }
  if (req.parallelToolCalls !== undefined && req.tools && req.tools.length > 0) body.parallel_tool_calls = req.parallelToolCalls;
  if (req.responseFormat) {
    const f = req.responseFormat;
    body.response_format =
      f.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: f.name,
              schema: f.schema,
              ...(f.strict !== undefined ? { strict: f.strict } : {}),
              ...(f.description !== undefined ? { description: f.description } : {}),
            },
          }
        : { type: f.type };
  }
  if (req.reasoning) applyReasoning(body, req, q, warnings);
  if (q.cacheControl && req.cacheControl) body.cache_control = req.cacheControl;
  applyOptions(body, req, q, warnings);
  for (const p of q.unsupportedParams ?? []) {
    if (p in body) {
      delete body[p];
      warnings.push(`${p} is not supported by this provider and was dropped`);
    }
  }
  if (req.passthrough) {
    const unsent = Object.keys(req.passthrough).filter((k) => !(k in body));
    if (q.strictFields && unsent.length > 0) {
      warnings.push(`Pass-through fields are not sent to this provider (it refuses fields it does not know): ${unsent.join(', ')}.`);
    } else for (const k of unsent) body[k] = req.passthrough[k];
  }
  return body;
}

/**
 * The door's options for the model (field-policy.ts: all `forward` on this protocol) go as the
 * client wrote them to a server that takes OpenAI's own options; to any other, they are dropped
 * with a warning, but for the values that ask for nothing (`store: false`...).
 */
function applyOptions(body: Json, req: ChatRequest, q: OpenAIQuirks, warnings: string[]): void {
  const { forward } = sortOptions('openai', req.upstreamOptions, warnings, 'this provider');
  if (q.openAIOptions) {
    if (forward.web_search_options !== undefined && q.webSearchModels !== undefined && !matchesPattern(q.webSearchModels, body.model)) {
      delete forward.web_search_options;
      warnings.push(dropWarning('web_search_options', String(body.model), 'only its search models search the web on chat completions'));
    }
    Object.assign(body, forward);
    return;
  }
  for (const [k, v] of Object.entries(forward) as Array<[UpstreamOption, unknown]>) {
    if (!isNeutral(k, v)) warnings.push(dropWarning(k, 'this provider'));
  }
}

/** Whether a model id matches a configured pattern (a pattern that is not a valid expression matches nothing). */
function matchesPattern(pattern: string, model: unknown): boolean {
  try {
    return typeof model === 'string' && new RegExp(pattern).test(model);
  } catch {
    return false;
  }
}

const OPENAI_EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

function applyReasoning(body: Json, req: ChatRequest, q: OpenAIQuirks, warnings: string[]): void {
  const r = req.reasoning!;
  const mode = q.reasoningParam ?? 'reasoning_effort';
  if (mode === 'reasoning') {
    body.reasoning = {
      ...(r.effort !== undefined ? { effort: r.effort } : {}),
      ...(r.maxTokens !== undefined ? { max_tokens: r.maxTokens } : {}),
      ...(r.exclude !== undefined ? { exclude: r.exclude } : {}),
      ...(r.enabled !== undefined ? { enabled: r.enabled } : {}),
    };
    return;
  }
  if (mode === 'none') {
    warnings.push('reasoning settings are not supported by this provider and were dropped');
    return;
  }
  let effort: string | undefined = r.effort;
  if (effort === 'max') effort = 'xhigh';
  // A budget alone stands for the effort its share of the output cap does (OpenRouter's rule); `enabled` alone, medium.
  if (effort === undefined && r.maxTokens !== undefined) effort = effortForBudget(r.maxTokens, req.maxTokens);
  if (effort === undefined && r.enabled) effort = 'medium';
  if (effort !== undefined && OPENAI_EFFORTS.has(effort)) body.reasoning_effort = effort;
  if (r.maxTokens !== undefined) warnings.push('reasoning.max_tokens was mapped to reasoning_effort for this provider');
}
