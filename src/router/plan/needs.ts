/**
 * What a request requires of an endpoint, derived once per request: capabilities (tools,
 * structured outputs, input modalities), sizes (output cap, prompt estimate for the context
 * window) and the parameters it sets (for `provider.require_parameters`).
 */
import { estimatePromptTokens } from '../../spec/estimate.ts';
import type { ChatRequest } from '../../spec/request.ts';
import { parametersOf } from './parameters.ts';

export interface RouteNeeds {
  /** Function tools present: only endpoints with `supportsTools`. */
  tools: boolean;
  /** `response_format.type === 'json_schema'`: only endpoints with `supportsStructuredOutputs`. */
  jsonSchema: boolean;
  /** Input modalities beyond text, anywhere in the messages: the model must list them. */
  images: boolean;
  files: boolean;
  audio: boolean;
  /** Requested output cap: endpoints whose max output is smaller are left out. */
  maxTokens?: number;
  /** Estimated prompt tokens: endpoints whose context window is smaller are left out. 0 = unknown. */
  promptTokens: number;
  /** Parameters the request sets, in OpenRouter's `supported_parameters` vocabulary. */
  parameters: ReadonlySet<string>;
}

/** Needs of a request that requires nothing in particular (embeddings, tests). */
export const NO_NEEDS: RouteNeeds = {
  tools: false,
  jsonSchema: false,
  images: false,
  files: false,
  audio: false,
  promptTokens: 0,
  parameters: new Set(),
};

export function needsOf(req: ChatRequest): RouteNeeds {
  let images = false;
  let files = false;
  let audio = false;
  for (const m of req.messages) {
    if (m.role !== 'user' && m.role !== 'tool') continue;
    for (const p of m.content) {
      if (p.type === 'image') images = true;
      else if (p.type === 'file') files = true;
      else if (p.type === 'audio') audio = true;
    }
  }
  return {
    tools: (req.tools?.length ?? 0) > 0,
    jsonSchema: req.responseFormat?.type === 'json_schema',
    images,
    files,
    audio,
    ...(req.maxTokens !== undefined ? { maxTokens: req.maxTokens } : {}),
    promptTokens: estimatePromptTokens(req),
    parameters: parametersOf(req),
  };
}
