/**
 * The playground: one prompt (or a short conversation, with an optional system prompt and
 * parameters) sent to up to six models at once through POST /chat/completions, streamed side by
 * side. Each request is an ordinary one with the signed-in key, so it spends its credit and meets
 * its limits; the timing and the cost come from the module `freeway compare` uses.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { pendingResult, streamCompare } from '../../../../src/cli/compare-stream.ts';
import type { CompareMessage, CompareParams } from '../../../../src/cli/compare-stream.ts';
import type { PageContext } from '../../page.ts';
import { ResultColumn } from './result-column.tsx';
import type { Column } from './result-column.tsx';
import { forget, loadSaved, save } from './saved.ts';
import type { Setup } from './saved.ts';

export const MAX_MODELS = 6;

const FRESH: Setup = { models: ['', '', ''], system: '', turns: [{ role: 'user', content: '' }], temperature: '', maxTokens: '' };

function params(s: Setup): CompareParams {
  const p: CompareParams = {};
  if (s.temperature !== '') p.temperature = Number(s.temperature);
  if (s.maxTokens !== '') p.max_tokens = Number(s.maxTokens);
  return p;
}

function messages(s: Setup): CompareMessage[] {
  const turns = s.turns.filter((t) => t.content.trim() !== '');
  return s.system.trim() ? [{ role: 'system', content: s.system }, ...turns] : turns;
}

const pending = pendingResult;

export function ComparePage({ ctx }: { ctx: PageContext }) {
  const saved = useRef(loadSaved());
  const [setup, setSetup] = useState<Setup>(saved.current?.setup ?? FRESH);
  const [cols, setCols] = useState<Array<Column | null>>(
    () => saved.current?.results.map((r) => (r ? { result: r, running: false } : null)) ?? [],
  );
  const [ids, setIds] = useState<string[]>([]);
  const aborts = useRef(new Map<number, AbortController>());
  const colsRef = useRef(cols);
  colsRef.current = cols;

  useEffect(() => {
    ctx.api<{ data: Array<{ id: string }> }>('/models?limit=1000').then(
      (r) => setIds(r.data.map((m) => m.id)),
      () => setIds([]),
    );
    return () => aborts.current.forEach((a) => a.abort());
  }, []);

  const setCol = (i: number, col: Column | null) => {
    setCols((old) => {
      const next = [...old];
      next[i] = col;
      return next;
    });
  };
  const keep = (s: Setup) => {
    const results = colsRef.current.map((c) => (c && !c.running ? c.result : null));
    save({ setup: s, results, at: new Date().toISOString() });
  };

  const post = (body: string, signal?: AbortSignal) =>
    ctx.fetchRaw('/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-title': 'Freeway Compare' },
      body,
      signal,
    });

  const runOne = async (i: number, s: Setup) => {
    const model = s.models[i].trim();
    if (!model) return setCol(i, null);
    aborts.current.get(i)?.abort();
    const abort = new AbortController();
    aborts.current.set(i, abort);
    setCol(i, { result: pending(model), running: true });
    const result = await streamCompare(post, model, messages(s), params(s), {
      signal: abort.signal,
      onProgress: (r) => setCol(i, { result: { ...r }, running: true }),
    });
    if (aborts.current.get(i) !== abort) return;
    aborts.current.delete(i);
    colsRef.current = colsRef.current.map((c, j) => (j === i ? { result, running: false } : c));
    setCol(i, { result, running: false });
    keep(s);
  };

  const ready = setup.models.some((m) => m.trim()) && messages(setup).some((m) => m.role === 'user');
  const runAll = (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    setCols(setup.models.map(() => null));
    colsRef.current = setup.models.map(() => null);
    setup.models.forEach((_, i) => void runOne(i, setup));
  };
  const update = (patch: Partial<Setup>) => setSetup({ ...setup, ...patch });
  const setModel = (i: number, v: string) => update({ models: setup.models.map((m, j) => (j === i ? v : m)) });
  const setTurn = (i: number, t: Partial<CompareMessage>) => update({ turns: setup.turns.map((x, j) => (j === i ? { ...x, ...t } : x)) });
  const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;

  return (
    <section class="fw-compare">
      <form class="fw-setup" onSubmit={runAll} aria-label="Comparison">
        <fieldset class="fw-models-pick">
          <legend>Models (up to {MAX_MODELS})</legend>
          {setup.models.map((m, i) => (
            <span class="fw-pick">
              <input
                name={`model-${i}`}
                list="fw-model-ids"
                value={m}
                placeholder="author/model"
                aria-label={`Model ${i + 1}`}
                onInput={(e) => setModel(i, val(e))}
              />
              {setup.models.length > 1 && (
                <button
                  type="button"
                  aria-label={`Remove model ${i + 1}`}
                  onClick={() => {
                    update({ models: setup.models.filter((_, j) => j !== i) });
                    setCols(cols.filter((_, j) => j !== i));
                  }}
                >
                  ×
                </button>
              )}
            </span>
          ))}
          {setup.models.length < MAX_MODELS && (
            <button type="button" onClick={() => update({ models: [...setup.models, ''] })}>
              Add model
            </button>
          )}
          <datalist id="fw-model-ids">
            {ids.map((id) => (
              <option value={id} />
            ))}
          </datalist>
        </fieldset>
        <label class="fw-block">
          System prompt (optional)
          <textarea name="system" rows={2} value={setup.system} onInput={(e) => update({ system: val(e) })} />
        </label>
        {setup.turns.map((t, i) => (
          <div class="fw-turn">
            <select
              aria-label={`Turn ${i + 1} role`}
              value={t.role}
              onChange={(e) => setTurn(i, { role: val(e) as CompareMessage['role'] })}
            >
              <option value="user">user</option>
              <option value="assistant">assistant</option>
            </select>
            <textarea
              name={`turn-${i}`}
              rows={3}
              value={t.content}
              aria-label={`Turn ${i + 1} text`}
              placeholder="Ask something…"
              onInput={(e) => setTurn(i, { content: val(e) })}
            />
            {setup.turns.length > 1 && (
              <button
                type="button"
                aria-label={`Remove turn ${i + 1}`}
                onClick={() => update({ turns: setup.turns.filter((_, j) => j !== i) })}
              >
                ×
              </button>
            )}
          </div>
        ))}
        <div class="fw-row">
          <button
            type="button"
            onClick={() =>
              update({ turns: [...setup.turns, { role: setup.turns.at(-1)?.role === 'user' ? 'assistant' : 'user', content: '' }] })
            }
          >
            Add turn
          </button>
          <label>
            Temperature
            <input
              name="temperature"
              type="number"
              min="0"
              max="2"
              step="0.1"
              value={setup.temperature}
              onInput={(e) => update({ temperature: val(e) })}
            />
          </label>
          <label>
            Max tokens
            <input
              name="max_tokens"
              type="number"
              min="1"
              step="1"
              value={setup.maxTokens}
              onInput={(e) => update({ maxTokens: val(e) })}
            />
          </label>
          <button type="submit" class="fw-primary" disabled={!ready}>
            Run comparison
          </button>
          <button
            type="button"
            onClick={() => {
              forget();
              aborts.current.forEach((a) => a.abort());
              setSetup(FRESH);
              setCols([]);
            }}
          >
            New
          </button>
        </div>
        <p class="fw-sub">Each model is an ordinary request with your key: it spends its credit and counts against its limits.</p>
      </form>
      {cols.some(Boolean) ? (
        <div class="fw-cols">
          {cols.map(
            (c, i) => c && <ResultColumn col={c} onRerun={() => void runOne(i, setup)} onStop={() => aborts.current.get(i)?.abort()} />,
          )}
        </div>
      ) : (
        <p class="fw-empty">
          Pick two or more models, write a prompt and run it: the answers stream here side by side, each with its time to first token, total
          time, tokens and exact cost.
        </p>
      )}
    </section>
  );
}
