/**
 * One model: its endpoints (GET /models/{author}/{slug}/endpoints) with price, context,
 * quantization and live health, and how to call it from curl, the OpenAI SDK and the Anthropic door.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PageContext } from '../../page.ts';
import { errorText, perMillion, tokens } from './format.ts';

interface Percentiles {
  p50: number;
}

export interface EndpointRow {
  name: string;
  /** The model the endpoint serves: another model's under a router (`openrouter/auto` lists those it routes to). */
  model_id: string;
  provider_name: string;
  tag: string;
  context_length: number;
  max_completion_tokens: number | null;
  quantization: string | null;
  pricing: { prompt: string; completion: string; input_cache_read?: string };
  status: number;
  uptime_last_30m: number | null;
  latency_last_30m: Percentiles | null;
  throughput_last_30m: Percentiles | null;
}

interface ModelEndpoints {
  id: string;
  name: string;
  description: string;
  architecture: { input_modalities: string[]; output_modalities: string[] };
  endpoints: EndpointRow[];
}

const STATUS: Record<string, string> = { '0': 'up', '-1': 'degraded', '-10': 'unpriced (not served)' };

export function snippets(origin: string, model: string): Array<[string, string]> {
  const base = `${origin}/api/v1`;
  return [
    [
      'curl',
      `curl ${base}/chat/completions \\
  -H "Authorization: Bearer $FREEWAY_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello"}]}'`,
    ],
    [
      'OpenAI SDK',
      `import os
from openai import OpenAI

client = OpenAI(base_url="${base}", api_key=os.environ["FREEWAY_API_KEY"])
answer = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Hello"}],
)
print(answer.choices[0].message.content)`,
    ],
    [
      'Anthropic door',
      `import os
from anthropic import Anthropic

client = Anthropic(base_url="${origin}/api", api_key=os.environ["FREEWAY_API_KEY"])
message = client.messages.create(
    model="${model}",
    max_tokens=1024,
    messages=[{"role": "user", "content": "Hello"}],
)
print(message.content[0].text)`,
    ],
  ];
}

export function ModelDetail({ ctx, params }: { ctx: PageContext; params: Record<string, string> }) {
  const id = `${params.author}/${params.slug}`;
  const [m, setM] = useState<ModelEndpoints | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState(0);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    let live = true;
    setM(null);
    setError(null);
    ctx.api<{ data: ModelEndpoints }>(`/models/${id}/endpoints`).then(
      (r) => live && setM(r.data),
      (err) => live && setError(errorText(err)),
    );
    return () => void (live = false);
  }, [id]);

  const code = snippets(location.origin, id);
  // A model router (openrouter/auto) lists the endpoints of the models it routes to.
  const routes = m?.endpoints.some((e) => e.model_id !== m.id) ?? false;
  const copy = () => {
    void navigator.clipboard?.writeText(code[tab][1]).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <section class="fw-model">
      <p>
        <a
          href="/models"
          onClick={(e) => {
            e.preventDefault();
            ctx.navigate('/models');
          }}
        >
          ← All models
        </a>
      </p>
      {error && (
        <p class="fw-error" role="alert">
          {error}
        </p>
      )}
      {!m && !error && <p class="fw-empty">Loading {id}…</p>}
      {m && (
        <>
          <h2>{m.name}</h2>
          <p class="fw-sub">
            <code>{m.id}</code> · {m.architecture.input_modalities.join(', ')} → {m.architecture.output_modalities.join(', ')}
          </p>
          {m.description && <p class="fw-desc">{m.description}</p>}
          <h3>{routes ? 'Endpoints it routes to' : 'Endpoints'}</h3>
          <div class="fw-scroll">
            <table class="fw-table fw-endpoints">
              <thead>
                <tr>
                  <th scope="col">{routes ? 'Provider: model' : 'Provider'}</th>
                  <th scope="col">Input $/M</th>
                  <th scope="col">Output $/M</th>
                  <th scope="col">Context</th>
                  <th scope="col">Max output</th>
                  <th scope="col">Quantization</th>
                  <th scope="col">Status</th>
                  <th scope="col">Uptime 30 m</th>
                  <th scope="col">Latency p50</th>
                  <th scope="col">Throughput p50</th>
                </tr>
              </thead>
              <tbody>
                {m.endpoints.map((e) => (
                  <tr data-provider={e.tag} data-model={e.model_id}>
                    <td>{e.model_id === m.id ? e.provider_name : e.name}</td>
                    <td class="fw-num">{perMillion(e.pricing.prompt)}</td>
                    <td class="fw-num">{perMillion(e.pricing.completion)}</td>
                    <td class="fw-num">{tokens(e.context_length || null)}</td>
                    <td class="fw-num">{tokens(e.max_completion_tokens)}</td>
                    <td>{e.quantization ?? '–'}</td>
                    <td>{STATUS[String(e.status)] ?? String(e.status)}</td>
                    <td class="fw-num">{e.uptime_last_30m === null ? '–' : `${e.uptime_last_30m}%`}</td>
                    <td class="fw-num">{e.latency_last_30m ? `${e.latency_last_30m.p50} s` : '–'}</td>
                    <td class="fw-num">{e.throughput_last_30m ? `${e.throughput_last_30m.p50} tok/s` : '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {m.endpoints.length === 0 && <p class="fw-empty">No provider serves this model right now.</p>}
          <p class="fw-sub">
            Latency, throughput and uptime are measured by this gateway over the last 30 minutes; – means no requests yet.
          </p>
          <h3>Call it</h3>
          <div class="fw-tabs" role="tablist">
            {code.map(([name], i) => (
              <button
                type="button"
                role="tab"
                aria-selected={i === tab}
                onClick={() => {
                  setTab(i);
                  setCopied(false);
                }}
              >
                {name}
              </button>
            ))}
            <button type="button" class="fw-copy" onClick={copy}>
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
          <pre class="fw-code" role="tabpanel">
            <code>{code[tab][1]}</code>
          </pre>
        </>
      )}
    </section>
  );
}
