import type { FinishReason } from '../../spec/response.ts';

/** OpenAI-family finish reasons (and the odd variants compatible servers send) → unified. */
export function mapOpenAIFinishReason(raw: unknown, hasToolCalls: boolean): FinishReason {
  const r = typeof raw === 'string' ? raw : null;
  switch (r) {
    case 'stop':
    case 'eos':
    case 'end_turn':
      return { unified: hasToolCalls ? 'tool_calls' : 'stop', raw: r };
    case 'length':
    case 'max_tokens':
    case 'model_length':
      return { unified: 'length', raw: r };
    case 'tool_calls':
    case 'function_call':
    case 'tool_use':
      return { unified: 'tool_calls', raw: r };
    case 'content_filter':
      return { unified: 'content_filter', raw: r };
    case 'error':
      return { unified: 'error', raw: r };
    default:
      return { unified: hasToolCalls ? 'tool_calls' : 'stop', raw: r };
  }
}
