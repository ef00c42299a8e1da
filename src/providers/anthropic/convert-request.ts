/**
 * Internal ChatRequest → Anthropic Messages request body. Anything Anthropic cannot take is dropped
 * or rewritten, and each such change is reported in `warnings`.
 */
import type { ChatRequest, ResponseFormat, ToolDefinition } from '../../spec/request.ts';
import { thinkingBudget, wantsReasoning } from '../../spec/reasoning-budget.ts';
import type { Target } from '../types.ts';
import { convertMessages, wireCacheControl } from './convert-messages.ts';
import { applyOptions } from './convert-options.ts';
import type { MessagesRequestBody, WireMessage, WireTool, WireToolChoice } from './wire-types.ts';
import { fitReasoning } from '../field-policy.ts';

/** `max_tokens` is mandatory on Anthropic; used when neither the request nor the catalog says. */
export const DEFAULT_MAX_TOKENS = 4096;
/** Anthropic's smallest accepted `thinking.budget_tokens`. */
export const MIN_THINKING_BUDGET = 1024;

export interface ConvertedRequest {
  body: MessagesRequestBody;
  warnings: string[];
  /** The `anthropic-beta` features the request asks for (the chat door's `x-anthropic-beta`). */
  beta?: string;
}

export function toMessagesRequest(asked: ChatRequest, target: Target): ConvertedRequest {
  const warnings: string[] = [];
  const req = fitReasoning(asked, target, warnings);
  const { system, messages } = convertMessages(req.messages, warnings);
  const body: MessagesRequestBody = {
    model: target.model,
    max_tokens: req.maxTokens ?? target.maxOutputTokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };

  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map(convertTool);
    const choice = convertToolChoice(req);
    if (choice) body.tool_choice = choice;
  } else if (req.toolChoice && req.toolChoice.type !== 'auto' && req.toolChoice.type !== 'none') {
    warnings.push('tool_choice was ignored because the request offers no tools.');
  }

  applySampling(req, body, warnings);
  applyThinking(req, target, body, warnings);

  // json_schema uses Anthropic's native structured outputs; json_object has no native form.
  if (req.responseFormat?.type === 'json_schema') {
    body.output_config = { format: { type: 'json_schema', schema: req.responseFormat.schema } };
  }
  const instruction = jsonInstruction(req.responseFormat);
  if (instruction) {
    system.push({ type: 'text', text: instruction });
    warnings.push('Anthropic has no json_object response format; it was asked for JSON in the system prompt instead.');
  }
  if (system.length > 0) body.system = system;
  if (req.cacheControl) Object.assign(body, wireCacheControl(req.cacheControl));
  if (req.user) body.metadata = { user_id: req.user };
  const beta = applyOptions(req.upstreamOptions, body, warnings);
  if (req.passthrough && Object.keys(req.passthrough).length > 0) {
    warnings.push(`Pass-through fields are not sent to Anthropic: ${Object.keys(req.passthrough).join(', ')}.`);
  }
  return { body, warnings, ...(beta ? { beta } : {}) };
}

function convertTool(t: ToolDefinition): WireTool {
  // Anthropic insists on an object schema; a bare `{}` means "no arguments".
  const schema = t.parameters && typeof t.parameters === 'object' ? t.parameters : {};
  const input_schema = schema.type === undefined ? { type: 'object', ...schema } : schema;
  return {
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    input_schema,
    ...wireCacheControl(t.cacheControl),
  };
}

function convertToolChoice(req: ChatRequest): WireToolChoice | undefined {
  const serial = req.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  const choice = req.toolChoice;
  if (!choice) return req.parallelToolCalls === false ? { type: 'auto', ...serial } : undefined;
  switch (choice.type) {
    case 'auto':
      return { type: 'auto', ...serial };
    case 'required':
      return { type: 'any', ...serial };
    case 'tool':
      return { type: 'tool', name: choice.name, ...serial };
    case 'none':
      return { type: 'none' };
  }
}

const UNSUPPORTED: Array<[keyof ChatRequest, string]> = [
  ['frequencyPenalty', 'frequency_penalty'],
  ['presencePenalty', 'presence_penalty'],
  ['repetitionPenalty', 'repetition_penalty'],
  ['minP', 'min_p'],
  ['topA', 'top_a'],
  ['seed', 'seed'],
  ['logitBias', 'logit_bias'],
  ['logprobs', 'logprobs'],
  ['topLogprobs', 'top_logprobs'],
];

function applySampling(req: ChatRequest, body: MessagesRequestBody, warnings: string[]): void {
  if (req.temperature !== undefined) {
    // OpenAI's range is 0-2, Anthropic's 0-1.
    body.temperature = Math.min(1, Math.max(0, req.temperature));
    if (body.temperature !== req.temperature) warnings.push(`temperature ${req.temperature} was clamped to Anthropic's range (0-1).`);
  }
  if (req.topP !== undefined) {
    // Current Claude models reject temperature and top_p together; temperature wins.
    if (body.temperature !== undefined) warnings.push('top_p was dropped: Anthropic does not accept it together with temperature.');
    else body.top_p = req.topP;
  }
  if (req.topK !== undefined) body.top_k = req.topK;
  if (req.stop && req.stop.length > 0) {
    const kept = req.stop.filter((s) => s.trim() !== '');
    if (kept.length < req.stop.length) warnings.push('Whitespace-only stop sequences were dropped (Anthropic rejects them).');
    if (kept.length > 0) body.stop_sequences = kept;
  }
  for (const [field, wire] of UNSUPPORTED) {
    const value = req[field];
    if (value === undefined || value === null || value === 0 || value === false) continue;
    if (typeof value === 'object' && Object.keys(value).length === 0) continue;
    warnings.push(`${wire} is not supported by Anthropic and was dropped.`);
  }
}

/** Why thinking cannot be enabled for this request, if it cannot. */
function thinkingObstacle(req: ChatRequest, messages: WireMessage[]): string | undefined {
  const forced = req.toolChoice?.type === 'required' || req.toolChoice?.type === 'tool';
  if (forced && req.tools && req.tools.length > 0) return 'Anthropic does not allow thinking while tool_choice forces a tool call.';
  // In a tool loop Anthropic requires the assistant turn that made the calls to open with its
  // thinking block; a client that did not keep it cannot continue with thinking on.
  const last = messages.at(-1);
  if (last?.role === 'user' && last.content.some((b) => b.type === 'tool_result')) {
    const assistant = messages.findLast((m) => m.role === 'assistant');
    const first = assistant?.content[0];
    if (assistant && first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
      return 'the assistant turn with the pending tool calls carries no thinking block to replay.';
    }
  }
  return undefined;
}

function applyThinking(req: ChatRequest, target: Target, body: MessagesRequestBody, warnings: string[]): void {
  if (!wantsReasoning(req.reasoning)) return;
  const obstacle = thinkingObstacle(req, body.messages);
  if (obstacle) {
    warnings.push(`Reasoning was not enabled: ${obstacle}`);
    return;
  }
  const requested = body.max_tokens;
  let maxTokens = requested;
  let budget = thinkingBudget(req.reasoning, requested, { min: MIN_THINKING_BUDGET, max: 128_000 }) ?? MIN_THINKING_BUDGET;
  // Thinking counts against max_tokens, and Anthropic requires max_tokens > budget_tokens. When the
  // budget does not fit (an explicit reasoning.max_tokens, or the 1024 minimum above a small
  // max_tokens), the budget is added on top, so the answer keeps the room the client asked for.
  if (budget >= maxTokens) maxTokens = budget + requested;
  const cap = target.maxOutputTokens;
  if (cap !== undefined && maxTokens > cap) {
    maxTokens = cap;
    if (budget >= maxTokens) budget = Math.floor(maxTokens / 2);
  }
  if (budget < MIN_THINKING_BUDGET) {
    warnings.push(`Reasoning was not enabled: the model's output cap (${cap}) leaves no room for Anthropic's minimum thinking budget.`);
    return;
  }
  if (maxTokens !== requested) {
    warnings.push(`max_tokens was raised from ${requested} to ${maxTokens} to make room for a thinking budget of ${budget} tokens.`);
  }
  body.max_tokens = maxTokens;
  body.thinking = { type: 'enabled', budget_tokens: budget };
  if (body.temperature !== undefined && body.temperature !== 1) {
    delete body.temperature;
    warnings.push('temperature was dropped: Anthropic does not accept it with thinking enabled.');
  }
  if (body.top_k !== undefined) {
    delete body.top_k;
    warnings.push('top_k was dropped: Anthropic does not accept it with thinking enabled.');
  }
  if (body.top_p !== undefined && body.top_p < 0.95) {
    delete body.top_p;
    warnings.push('top_p was dropped: with thinking enabled Anthropic only accepts values from 0.95.');
  }
}

function jsonInstruction(format: ResponseFormat | undefined): string | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return 'Respond only with a valid JSON object, with no text before or after it.';
  return undefined;
}
