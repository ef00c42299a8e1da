/** The benchmark's result table, in Markdown. */

export interface Row {
  metric: string;
  direct: string;
  /** The bare forwarder (the yardstick), with what it adds where that applies. */
  bare: string;
  freeway: string;
  added: string;
  target: string;
  /** undefined: informational, no target. */
  met?: boolean;
}

export function renderTable(rows: readonly Row[]): string {
  const head = ['metric', 'direct', 'bare forwarder', 'via Freeway', 'added by Freeway', 'target', 'met?'];
  const cells = rows.map((r) => [
    r.metric,
    r.direct,
    r.bare,
    r.freeway,
    r.added,
    r.target,
    r.met === undefined ? '—' : r.met ? 'yes' : '**NO**',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
