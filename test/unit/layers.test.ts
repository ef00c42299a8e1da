/**
 * Layers point one way: a module may import from its own layer or one below, never from above.
 * Every import in src (static, re-export and dynamic) is read and checked against the table below,
 * so a new upward import fails here instead of quietly tangling the code.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/**
 * Lowest first. A path (relative to src) belongs to the entry with the longest matching prefix;
 * a folder entry covers everything under it.
 */
const LAYERS: readonly (readonly string[])[] = [
  // The internal model and its units (requests, events, errors, money), and plumbing that knows no domain.
  ['spec', 'log.ts', 'log-pretty.ts', 'log-writer.ts', 'net', 'infra'],
  // What exists: provider adapters, the catalog built from them, and the configuration that selects them.
  ['providers', 'catalog', 'config'],
  // Decisions and records: which endpoints to try, what it costs, what is allowed, where it is kept;
  // and operations (logs, metrics, traces), which the layers above report to and which calls none of them.
  ['router', 'accounting', 'limits', 'store', 'ops'],
  // Running one request: the gateway, the service container it runs in, and the HTTP transport.
  ['gateway', 'app.ts', 'http'],
  // The protocols clients speak.
  ['doors'],
  // Wiring: the route table, the admin API, start-up and the command line.
  [
    'http/routes.ts',
    'http/admin',
    'http/endpoints-api.ts',
    'http/providers-api.ts',
    'http/generations-api.ts',
    'start.ts',
    'cluster',
    'cli',
  ],
];

function layerOf(path: string): number {
  let best = -1;
  let bestLength = -1;
  LAYERS.forEach((entries, layer) => {
    for (const e of entries) {
      const covers = path === e || path.startsWith(`${e}/`);
      if (covers && e.length > bestLength) {
        best = layer;
        bestLength = e.length;
      }
    }
  });
  return best;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative specifiers of every `import … from`, `export … from`, `import '…'` and `import('…')`. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s*['"](\.[^'"]+)['"]/g, /\bimport\s*['"](\.[^'"]+)['"]/g, /\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

interface Edge {
  from: string;
  to: string;
}

function edges(): Edge[] {
  return sourceFiles(SRC).flatMap((file) =>
    importsOf(readFileSync(file, 'utf8')).map((spec) => ({
      from: relative(SRC, file),
      to: relative(SRC, normalize(join(dirname(file), spec))),
    })),
  );
}

describe('layers', () => {
  const all = edges();

  it('finds the imports it checks (the parser is not silently reading nothing)', () => {
    assert.ok(all.length > 500, `only ${all.length} imports found`);
    assert.ok(all.some((e) => e.from === 'gateway/metering.ts' && e.to === 'router/types.ts'));
    assert.deepEqual(importsOf(`import type { A } from '../x.ts';\nexport { b } from './y.ts';\nawait import('../z.ts');`), [
      '../x.ts',
      './y.ts',
      '../z.ts',
    ]);
  });

  it('places every source file in a layer', () => {
    const unplaced = sourceFiles(SRC)
      .map((f) => relative(SRC, f))
      .filter((f) => layerOf(f) < 0);
    assert.deepEqual(unplaced, []);
  });

  it('imports only from the same layer or below', () => {
    const upward = all
      .filter((e) => layerOf(e.to) > layerOf(e.from))
      .map((e) => `${e.from} (layer ${layerOf(e.from)}) imports ${e.to} (layer ${layerOf(e.to)})`);
    assert.deepEqual(upward, []);
  });

  it('catches an upward import (the table is not so loose that nothing could fail)', () => {
    assert.ok(layerOf('router/plan/plan.ts') < layerOf('gateway/resolve.ts'));
    assert.ok(layerOf('accounting/free-tier.ts') < layerOf('gateway/resolve.ts'));
    assert.ok(layerOf('spec/request.ts') < layerOf('providers/registry.ts'));
    assert.ok(layerOf('gateway/metering.ts') < layerOf('doors/openai/chat.ts'));
    assert.ok(layerOf('http/server.ts') < layerOf('http/routes.ts'));
  });
});
