/**
 * Summarises a V8 .cpuprofile (written by `--cpu-prof`): the functions with the most self time,
 * the functions with the most inclusive time among Freeway's own sources, and self time per file.
 *
 *   node bench/profile.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function where(n: ProfileNode): string {
  const { url, lineNumber } = n.callFrame;
  if (!url) return '';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  return `${file.startsWith(ROOT) ? file.slice(ROOT.length) : file}:${lineNumber + 1}`;
}

function frameKey(n: ProfileNode): string {
  return `${n.callFrame.functionName || '(anonymous)'} ${where(n)}`.trim();
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

export function summariseProfile(path: string, top = 25): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const perFile = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = Math.max(0, p.timeDeltas[i] ?? 0);
    const node = byId.get(p.samples[i]);
    if (!node) continue;
    const name = node.callFrame.functionName;
    total += dt;
    if (name === '(idle)') {
      idle += dt;
      continue;
    }
    if (name === '(garbage collector)') gc += dt;
    const key = frameKey(node);
    self.set(key, (self.get(key) ?? 0) + dt);
    const file = node.callFrame.url ? where(node).replace(/:\d+$/, '') : name;
    perFile.set(file, (perFile.get(file) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (SPECIAL.has(n.callFrame.functionName)) continue;
      const k = frameKey(n);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const lines: string[] = [];
  lines.push(`CPU profile ${path}`);
  lines.push(`busy ${ms(busy).trim()} of ${ms(total).trim()} sampled (GC ${pct(gc).trim()} of busy)`);
  lines.push('', `Top ${top} functions by self time (% of busy time):`);
  for (const [k, v] of [...self].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(v)} ${ms(v)}  ${k}`);
  lines.push('', `Top ${top} Freeway functions (src/) by inclusive time:`);
  // Freeway runs from dist/src (built) in the benchmark, from src/ elsewhere.
  const own = [...inclusive].filter(([k]) => / (dist\/)?src\//.test(k)).sort((x, y) => y[1] - x[1]);
  for (const [k, v] of own.slice(0, top)) lines.push(`  ${pct(v)} ${ms(v)}  ${k}`);
  lines.push('', 'Self time by file:');
  for (const [k, v] of [...perFile].sort((x, y) => y[1] - x[1]).slice(0, 15)) lines.push(`  ${pct(v)} ${ms(v)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/profile.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(summariseProfile(file, top ? Number(top) : 25));
}
