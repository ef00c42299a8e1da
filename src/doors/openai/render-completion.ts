/**
 * Internal results and events → legacy `text_completion` objects and chunks.
 */
import type { Charge } from '../../gateway/tracker.ts';
import type { GatewayError } from '../../spec/errors.ts';
import type { ChatResult, FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import { renderUsage } from './render-usage.ts';
import type { ChunkMeta, StreamRenderer } from '../../gateway/stream-generation.ts';

function choice(text: string, finish: FinishReason | null): string {
  const f = finish ? `${JSON.stringify(finish.unified)},"native_finish_reason":${JSON.stringify(finish.raw)}` : 'null';
  return `{"text":${JSON.stringify(text)},"index":0,"logprobs":null,"finish_reason":${f}}`;
}

export function renderTextCompletion(meta: ChunkMeta, r: ChatResult, cost: Charge): Record<string, unknown> {
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    provider: meta.providerName,
    system_fingerprint: null,
    choices: [JSON.parse(choice(r.text, r.finish))],
    usage: renderUsage(r.usage, cost),
    ...(r.warnings && r.warnings.length > 0 ? { warnings: r.warnings } : {}),
  };
}

export class CompletionChunkRenderer implements StreamRenderer {
  private readonly head: string;

  constructor(meta: ChunkMeta) {
    this.head =
      `data: {"id":${JSON.stringify(meta.id)},"object":"text_completion","created":${meta.created},` +
      `"model":${JSON.stringify(meta.model)},"provider":${JSON.stringify(meta.providerName)},"choices":[`;
  }

  event(ev: StreamEvent): string | undefined {
    return ev.type === 'text' ? `${this.head}${choice(ev.text, null)}]}\n\n` : undefined;
  }

  final(finish: FinishReason, usage: Usage, cost: Charge): string {
    return `${this.head}${choice('', finish)}],"usage":${JSON.stringify(renderUsage(usage, cost))}}\n\ndata: [DONE]\n\n`;
  }

  error(err: GatewayError, usage: Usage, cost: Charge): string {
    return `${this.head}${choice('', { unified: 'error', raw: 'error' })}],"error":${JSON.stringify(err.toBody().error)},"usage":${JSON.stringify(renderUsage(usage, cost))}}\n\ndata: [DONE]\n\n`;
  }
}
