#!/usr/bin/env node
// Launches the Freeway CLI on Node 24 or newer. When the `node` on PATH is older, it re-runs itself
// with the Node 24 that npm installed as a dependency (the `node` package), so `freeway` works on
// machines whose system Node lags behind.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);

if (major >= 24) {
  await import(main);
} else {
  const bundled = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(bundled)) {
    console.error('freeway needs Node.js 24 or newer; run `npm ci` to install the bundled Node 24.');
    process.exit(1);
  }
  const r = spawnSync(bundled, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
