/** One model's column in a comparison: its streamed answer, then its timings, tokens and exact cost. */
import type { CompareResult } from '../../../../src/cli/compare-stream.ts';
import { ms, usd } from '../models/format.ts';

export interface Column {
  result: CompareResult;
  running: boolean;
}

export function ResultColumn({ col, onRerun, onStop }: { col: Column; onRerun: () => void; onStop: () => void }) {
  const r = col.result;
  return (
    <article class="fw-col" data-model={r.model} aria-busy={col.running} aria-label={`Answer from ${r.model}`}>
      <header>
        <h3>{r.model}</h3>
        {r.provider && <span class="fw-sub">{r.provider}</span>}
      </header>
      <div class="fw-answer" aria-live="polite">
        {r.reasoning && (
          <details>
            <summary>Reasoning</summary>
            <p class="fw-reasoning">{r.reasoning}</p>
          </details>
        )}
        <p class="fw-text">{r.text || (col.running ? 'Waiting for the first token…' : '')}</p>
        {r.error && (
          <p class="fw-error" role="alert">
            {r.error}
          </p>
        )}
      </div>
      <dl class="fw-metrics">
        <dt>TTFT</dt>
        <dd data-metric="ttft">{ms(r.ttftMs)}</dd>
        <dt>Total</dt>
        <dd data-metric="total">{col.running ? '…' : ms(r.totalMs)}</dd>
        <dt>Tokens</dt>
        <dd data-metric="tokens">{r.promptTokens === null ? '–' : `${r.promptTokens} → ${r.completionTokens ?? 0}`}</dd>
        <dt>Cost</dt>
        <dd data-metric="cost">{usd(r.cost)}</dd>
      </dl>
      <footer>
        {col.running ? (
          <button type="button" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="button" onClick={onRerun}>
            Rerun
          </button>
        )}
        {r.generationId && (
          <code class="fw-sub" data-generation={r.generationId}>
            {r.generationId}
          </code>
        )}
      </footer>
    </article>
  );
}
