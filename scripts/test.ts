/**
 * `npm test`: lint and format check, typecheck (src and web), then every test file under test/ with
 * node's test runner. (`pretest` has built the dashboard into web/dist first.)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const bin = (name: string) => join('node_modules', '.bin', name);

// `biome check --write .` fixes what this finds (formatting, and the lints that have a safe fix).
const lint = spawnSync(bin('biome'), ['ci', '--error-on-warnings', '--reporter=summary', '.'], { stdio: 'inherit' });
if (lint.status !== 0) {
  console.error('lint or format check failed: run `npx biome check --write .` and fix what remains');
  process.exit(lint.status ?? 1);
}

const tsc = spawnSync(bin('tsc'), ['-p', '.'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('typecheck failed');
  process.exit(tsc.status ?? 1);
}

// The dashboard's sources (browser code, DOM types) have their own project.
const tscWeb = spawnSync(bin('tsc'), ['-p', 'web'], { stdio: 'inherit' });
if (tscWeb.status !== 0) {
  console.error('typecheck of web/ failed');
  process.exit(tscWeb.status ?? 1);
}

const tests = files('test').sort();
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...tests], {
  stdio: 'inherit',
  env: { ...process.env, FREEWAY_LOG: process.env.FREEWAY_LOG ?? 'silent' },
});
process.exit(run.status ?? 1);
