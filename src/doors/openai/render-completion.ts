/**
 * Internal results and events → legacy `text_completion` objects and chunks.
 */
import type { Charge } from '../../accounting/charge.ts';
import type { GatewayError } from '../../spec/errors.ts';
import type { ChatResult, FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import { renderUsage } from './render-usage.ts';
import type { ChunkMeta, StreamEnding, StreamRenderer } from '../../gateway/stream-generation.ts';
import { closingFrames, PendingWarnings } from './render-chat-stream.ts';

function choice(text: string, finish: FinishReason | null): string {
  const f = finish ? `${JSON.stringify(finish.unified)},"native_finish_reason":${JSON.stringify(finish.raw)}` : 'null';
  return `{"text":${JSON.stringify(text)},"index":0,"logprobs":null,"finish_reason":${f}}`;
}

export function renderTextCompletion(
  meta: ChunkMeta,
  r: ChatResult,
  cost: Charge,
  doorWarnings: readonly string[] = [],
): Record<string, unknown> {
  const warnings = [...doorWarnings, ...(r.warnings ?? [])];
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    provider: meta.providerName,
    system_fingerprint: null,
    choices: [JSON.parse(choice(r.text, r.finish))],
    ...(r.serviceTier !== undefined ? { service_tier: r.serviceTier } : {}),
    usage: renderUsage(r.usage, cost),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

export class CompletionChunkRenderer implements StreamRenderer {
  private readonly head: string;
  private readonly pending: PendingWarnings;
  private readonly usageApart: boolean;

  /**
   * `warnings`: the door's own, about the request, shown on the first frame. `includeUsage`: the
   * client's `stream_options.include_usage` (where the usage goes, closingFrames).
   */
  constructor(meta: ChunkMeta & { includeUsage?: boolean; warnings?: readonly string[] }) {
    this.pending = new PendingWarnings(meta.warnings);
    this.usageApart = meta.includeUsage === true;
    this.head =
      `data: {"id":${JSON.stringify(meta.id)},"object":"text_completion","created":${meta.created},` +
      `"model":${JSON.stringify(meta.model)},"provider":${JSON.stringify(meta.providerName)},"choices":[`;
  }

  warn(warnings: readonly string[]): void {
    this.pending.add(warnings);
  }

  event(ev: StreamEvent): string | undefined {
    return ev.type === 'text' ? `${this.head}${choice(ev.text, null)}]${this.pending.take()}}\n\n` : undefined;
  }

  final(finish: FinishReason, usage: Usage, cost: Charge, about: StreamEnding = {}): string {
    const tier = about.serviceTier !== undefined ? `,"service_tier":${JSON.stringify(about.serviceTier)}` : '';
    return closingFrames(this.head, choice('', finish), {
      shared: tier,
      usage: JSON.stringify(renderUsage(usage, cost)),
      warnings: this.pending.take(),
      usageApart: this.usageApart,
    });
  }

  error(err: GatewayError, usage: Usage, cost: Charge): string {
    return closingFrames(this.head, choice('', { unified: 'error', raw: 'error' }), {
      error: `,"error":${JSON.stringify(err.toBody().error)}`,
      usage: JSON.stringify(renderUsage(usage, cost)),
      warnings: this.pending.take(),
      usageApart: this.usageApart,
    });
  }
}
