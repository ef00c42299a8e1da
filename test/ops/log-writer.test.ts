import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BatchWriter } from '../../src/log-writer.ts';

function withFile(fn: (fd: number, read: () => string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'freeway-log-writer-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'a');
  return fn(fd, () => readFileSync(file, 'utf8')).finally(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
}

test('lines wait for a batch, then are written whole and in order', () =>
  withFile(async (fd, read) => {
    const w = new BatchWriter(fd, { batchBytes: 100, everyMs: 60_000, maxPendingBytes: 1e6 });
    w.write('{"a":1}\n');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(read(), '', 'a short line stays queued below the batch size');
    const lines = Array.from({ length: 50 }, (_, i) => `{"n":${i},"s":"é"}\n`);
    for (const l of lines) w.write(l);
    await w.flush();
    assert.equal(read(), `{"a":1}\n${lines.join('')}`);
    w.flushSync();
  }));

test('flushSync writes what is queued at once; past the cap lines are dropped and counted', () =>
  withFile(async (fd, read) => {
    const w = new BatchWriter(fd, { batchBytes: 1e6, everyMs: 60_000, maxPendingBytes: 20 });
    assert.equal(w.write('{"first":"line-of-thirty-chars"}\n'), true);
    assert.equal(w.write('{"second":1}\n'), false);
    w.flushSync();
    const out = read().trim().split('\n');
    assert.equal(out[0], '{"first":"line-of-thirty-chars"}');
    const warn = JSON.parse(out[1]) as { level: string; dropped: number; msg: string };
    assert.deepEqual([warn.level, warn.dropped, warn.msg], ['warn', 1, 'log lines dropped']);
    await w.flush();
  }));
