/**
 * `npm run build`: src/ as plain JavaScript in dist/, for the serving process. Node runs the .ts
 * sources directly, but its type stripper stays loaded in every process that uses it (about 25 MB
 * of resident memory) and each file is stripped again at every start; the gateway runs from dist/
 * instead. Types are stripped by Node's own stripper (positions kept, so stack traces point at the
 * right lines of the sources) and relative `.ts` imports become `.js`. The new tree is written
 * beside the old one and swapped in, so a process starting meanwhile never sees half a build.
 * `bin/freeway.js` (the start command) runs it whenever a source is newer than dist/.built.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  });
}

/** Relative specifiers ending in .ts, in static imports/exports and dynamic import(). */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g;

export function build(): void {
  const tmp = `${DIST}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const file of files(SRC)) {
    const out = join(tmp, 'src', relative(SRC, file));
    mkdirSync(dirname(out), { recursive: true });
    if (file.endsWith('.ts')) {
      const js = stripTypeScriptTypes(readFileSync(file, 'utf8'), { mode: 'strip' }).replace(SPECIFIER, '$1$2$3.js$2');
      writeFileSync(out.slice(0, -3) + '.js', js);
    } else cpSync(file, out);
  }
  writeFileSync(join(tmp, '.built'), new Date().toISOString());
  const old = `${DIST}.old-${process.pid}`;
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(tmp, DIST);
  rmSync(old, { recursive: true, force: true });
}

if (import.meta.main) build();
