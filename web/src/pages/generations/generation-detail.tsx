/**
 * One generation: tokens, the cost broken down (the providers' price and Freeway's fee), timings,
 * the provider legs of a mid-stream failover, and what was said when content logging kept it.
 * An inference key re-reads it from GET /generation?id= (the route only the key that made it may
 * call); a management key shows the row the listing gave, which has the same shape.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PageContext } from '../../page.ts';
import { errorText, ms, usd, when } from '../models/format.ts';
import { statusOf } from './types.ts';
import type { Generation } from './types.ts';

interface Content {
  input: unknown;
  output: { completion: string | null; reasoning: string | null };
}

const num = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toLocaleString('en-US'));

/** A message's content as text: a string, or its text parts (other parts, such as images, as JSON). */
function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return JSON.stringify(content);
  return content
    .map((p: { type?: unknown; text?: unknown }) => (p?.type === 'text' && typeof p.text === 'string' ? p.text : JSON.stringify(p)))
    .join('\n');
}

/** A logged prompt as text: chat messages one per paragraph, anything else as JSON. */
function inputText(input: unknown): string {
  const messages = (input as { messages?: unknown } | null)?.messages ?? input;
  if (Array.isArray(messages)) {
    return messages.map((m: { role?: unknown; content?: unknown }) => `${String(m.role ?? '?')}: ${partsText(m.content)}`).join('\n\n');
  }
  return typeof input === 'string' ? input : JSON.stringify(input, null, 2);
}

export function GenerationDetail({ ctx, row, onClose }: { ctx: PageContext; row: Generation; onClose: () => void }) {
  const [g, setG] = useState<Generation>(row);
  const [content, setContent] = useState<Content | string | null>(null);

  useEffect(() => {
    setG(row);
    setContent(null);
    if (ctx.key.kind !== 'inference') return;
    let live = true;
    ctx.api<{ data: Generation }>(`/generation?id=${encodeURIComponent(row.id)}`).then(
      (r) => live && setG(r.data),
      () => {},
    );
    return () => void (live = false);
  }, [row.id]);

  const showContent = () => {
    setContent('Loading…');
    ctx.api<{ data: Content }>(`/generation/content?id=${encodeURIComponent(g.id)}`).then(
      (r) => setContent(r.data),
      (err) => setContent(errorText(err)),
    );
  };
  const c = g.cost_details;
  return (
    <aside class="fw-gen-detail" aria-label={`Generation ${g.id}`}>
      <header>
        <h3>{g.model}</h3>
        <button type="button" onClick={onClose} aria-label="Close details">
          Close
        </button>
      </header>
      <p class="fw-sub">
        <code>{g.id}</code> · {when(g.created_at)} · {statusOf(g)}
      </p>
      {g.error && <p class="fw-error">{g.error}</p>}
      <dl class="fw-facts">
        <dt>Provider</dt>
        <dd>
          {g.provider_name} <span class="fw-sub">({g.upstream_model})</span>
        </dd>
        <dt>Finish</dt>
        <dd>
          {g.finish_reason ?? '–'}
          {g.native_finish_reason ? ` (${g.native_finish_reason})` : ''}
        </dd>
        <dt>Latency</dt>
        <dd data-fact="latency">{ms(g.latency)}</dd>
        <dt>Time to first token</dt>
        <dd data-fact="ttft">{ms(g.time_to_first_token)}</dd>
        <dt>Generation time</dt>
        <dd>{ms(g.generation_time)}</dd>
        <dt>Door</dt>
        <dd>
          {g.api_type}
          {g.streamed ? ', streamed' : ''}
          {g.service_tier ? `, ${g.service_tier} tier` : ''}
        </dd>
        {g.app_title && (
          <>
            <dt>App</dt>
            <dd>{g.app_title}</dd>
          </>
        )}
        {g.external_user && (
          <>
            <dt>User</dt>
            <dd>{g.external_user}</dd>
          </>
        )}
        {g.session_id && (
          <>
            <dt>Session</dt>
            <dd>{g.session_id}</dd>
          </>
        )}
        <dt>Key</dt>
        <dd>
          <code>{g.key_hash.slice(0, 16)}</code>
        </dd>
      </dl>
      <h4>Tokens{g.usage_estimated ? ' (estimated)' : ''}</h4>
      <dl class="fw-facts">
        <dt>Prompt</dt>
        <dd data-fact="prompt">{num(g.tokens_prompt)}</dd>
        <dt>Cached</dt>
        <dd>{num(g.native_tokens_cached)}</dd>
        <dt>Cache write</dt>
        <dd>{num(g.native_tokens_cache_write)}</dd>
        <dt>Completion</dt>
        <dd data-fact="completion">{num(g.tokens_completion)}</dd>
        <dt>Reasoning</dt>
        <dd>{num(g.native_tokens_reasoning)}</dd>
      </dl>
      <h4>Cost</h4>
      <dl class="fw-facts">
        <dt>Prompt</dt>
        <dd>{usd(c.upstream_inference_prompt_cost)}</dd>
        <dt>Completion</dt>
        <dd>{usd(c.upstream_inference_completions_cost)}</dd>
        {c.upstream_inference_cost !== undefined && (
          <>
            <dt>Provider price</dt>
            <dd>{usd(c.upstream_inference_cost)}</dd>
          </>
        )}
        {c.freeway_fee !== undefined && (
          <>
            <dt>Freeway fee</dt>
            <dd data-fact="fee">{usd(c.freeway_fee)}</dd>
          </>
        )}
        <dt>Total charged</dt>
        <dd data-fact="cost">
          <strong>{usd(g.total_cost)}</strong>
        </dd>
      </dl>
      {g.provider_responses.length > 0 && (
        <>
          <h4>Provider legs</h4>
          <p class="fw-sub">The answer was streamed from more than one upstream: each failed mid-stream and the next carried on.</p>
          <div class="fw-scroll">
            <table class="fw-table fw-legs">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Tokens</th>
                  <th scope="col">Cost</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {g.provider_responses.map((l, i) => (
                  <tr>
                    <td>{i + 1}</td>
                    <td>
                      {l.provider_name}
                      <div class="fw-sub">{l.model}</div>
                    </td>
                    <td class="fw-num">
                      {num(l.tokens_prompt)} → {num(l.tokens_completion)}
                    </td>
                    <td class="fw-num">{usd(l.upstream_inference_cost)}</td>
                    <td>{l.error ?? (i < g.provider_responses.length - 1 ? 'cut off' : 'completed')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <h4>Content</h4>
      {content === null && (
        <button type="button" onClick={showContent}>
          Show prompt and answer
        </button>
      )}
      {typeof content === 'string' && (
        <p class="fw-sub" role="status">
          {content}
        </p>
      )}
      {content !== null && typeof content === 'object' && (
        <div class="fw-content">
          <h5>Prompt</h5>
          <pre>{inputText(content.input)}</pre>
          {content.output.reasoning && (
            <>
              <h5>Reasoning</h5>
              <pre>{content.output.reasoning}</pre>
            </>
          )}
          <h5>Answer</h5>
          <pre data-fact="completion-text">{content.output.completion ?? ''}</pre>
        </div>
      )}
    </aside>
  );
}
