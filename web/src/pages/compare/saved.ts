/**
 * The comparison kept in the browser (localStorage): its setup and each model's finished result,
 * so a reload or a later visit shows it again. Only finished results are kept; a reading that
 * fails (storage off, or an older shape) is no comparison at all.
 */
import type { CompareMessage, CompareResult } from '../../../../src/cli/compare-stream.ts';

export interface Setup {
  models: string[];
  system: string;
  turns: CompareMessage[];
  temperature: string;
  maxTokens: string;
}

export interface Saved {
  setup: Setup;
  results: Array<CompareResult | null>;
  at: string;
}

const KEY = 'freeway.compare.v1';

export function loadSaved(): Saved | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Saved;
    return Array.isArray(s?.setup?.models) && Array.isArray(s.setup.turns) && Array.isArray(s.results) ? s : null;
  } catch {
    return null;
  }
}

export function save(s: Saved): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    // Storage full or disabled: the comparison stays on screen, only not kept.
  }
}

export function forget(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing kept to forget.
  }
}
