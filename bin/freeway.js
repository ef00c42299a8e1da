#!/usr/bin/env node
// Launches the Freeway CLI on Node 24 or newer. When the `node` on PATH is older, it re-runs itself
// with the Node 24 that npm installed as a dependency (the `node` package), so `freeway` works on
// machines whose system Node lags behind. The CLI runs from dist/ (plain JavaScript, built from
// src/ by scripts/build.ts whenever a source is newer), so the serving process carries no
// TypeScript stripper; if dist/ cannot be built it runs the sources directly.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** dist/src/cli/main.js, built first if missing or older than the sources; the sources if that fails. */
function entry() {
  const sources = join(root, 'src');
  const built = join(root, 'dist', 'src', 'cli', 'main.js');
  const stamp = join(root, 'dist', '.built');
  if (!existsSync(sources)) return built;
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(sources)) return built;
  const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', join(root, 'scripts', 'build.ts')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return r.status === 0 && existsSync(built) ? built : join(sources, 'cli', 'main.ts');
}

if (major >= 24) {
  await import(pathToFileURL(entry()).href);
} else {
  const bundled = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(bundled)) {
    // An installed package, or a checkout installed with --omit=dev, has no bundled Node: only the
    // Node on PATH, which must then be 24 or newer.
    console.error(
      `freeway needs Node.js 24 or newer (this is ${process.version}). Install Node 24, or in a checkout run \`npm ci\` ` +
        'with dev dependencies, which installs Node 24 as the `node` package.',
    );
    process.exit(1);
  }
  const r = spawnSync(bundled, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
