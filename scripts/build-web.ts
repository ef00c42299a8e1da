/**
 * `npm run build:web` (also run before `npm start`, `npm test` and `npm pack`): the dashboard's
 * sources in web/src bundled by esbuild into web/dist — one hashed JS file and one hashed CSS file
 * (long-cached by the gateway) and an index.html naming them. Like scripts/build.ts, the new tree
 * is written beside the old one and swapped in. `webIsStale()` tells a test whether to rebuild.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const WEB = join(ROOT, 'web');
const OUT = join(WEB, 'dist');
const STAMP = join(OUT, '.built');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  });
}

/** True when web/dist is missing or older than a file in web/src or web/index.html. */
export function webIsStale(): boolean {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return [...files(join(WEB, 'src')), join(WEB, 'index.html')].some((f) => statSync(f).mtimeMs > built);
}

export async function buildWeb(): Promise<{ js: string; css: string }> {
  // Imported here so that the gateway's own modules never load esbuild (a devDependency).
  const esbuild = await import('esbuild');
  const tmp = `${OUT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(WEB, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: 'assets/[name]-[hash]',
    outdir: tmp,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (!js || !css) throw new Error(`build-web: expected one .js and one .css output, got ${outputs.join(', ')}`);
  const html = readFileSync(join(WEB, 'index.html'), 'utf8')
    .replace('<!--css-->', `<link rel="stylesheet" href="/assets/${css}">`)
    .replace('<!--js-->', `<script type="module" src="/assets/${js}"></script>`);
  writeFileSync(join(tmp, 'index.html'), html);
  writeFileSync(join(tmp, '.built'), new Date().toISOString());
  const old = `${OUT}.old-${process.pid}`;
  if (existsSync(OUT)) renameSync(OUT, old);
  renameSync(tmp, OUT);
  rmSync(old, { recursive: true, force: true });
  return { js: join(OUT, 'assets', js), css: join(OUT, 'assets', css) };
}

if (import.meta.main) {
  const t = performance.now();
  await buildWeb();
  // stderr: `npm pack --json` prints its JSON on stdout after this (prepack).
  console.error(`web/dist built in ${Math.round(performance.now() - t)} ms`);
}
