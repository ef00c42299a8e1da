import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSse } from '../../src/providers/sse.ts';

async function collect(chunks: string[]) {
  const enc = new TextEncoder();
  async function* gen() {
    for (const c of chunks) yield enc.encode(c);
  }
  const out = [];
  for await (const m of parseSse(gen())) out.push(m);
  return out;
}

test('frames split anywhere, CRLF, comments, multi-line data, event names', async () => {
  const msgs = await collect([
    ': keep-alive\r\n\r\nevent: mes',
    'sage_start\r\ndata: {"a":',
    '1}\r',
    '\n\r\ndata: line1\ndata: line2\n\n',
    'data: tail',
  ]);
  assert.deepEqual(msgs, [
    { event: 'message_start', data: '{"a":1}' },
    { event: undefined, data: 'line1\nline2' },
    { event: undefined, data: 'tail' },
  ]);
});

test('multi-byte characters split across chunks survive', async () => {
  const bytes = new TextEncoder().encode('data: 亚洲\n\n');
  async function* gen() {
    yield bytes.slice(0, 8);
    yield bytes.slice(8);
  }
  const out = [];
  for await (const m of parseSse(gen())) out.push(m.data);
  assert.deepEqual(out, ['亚洲']);
});

test('bare \\r line endings, and a \\r\\n split across reads', async () => {
  const msgs = await collect(['data: a\r\r', 'data: b\r', '\n\r', '\n']);
  assert.deepEqual(
    msgs.map((m) => m.data),
    ['a', 'b'],
  );
});

test('data lines with and without the space, empty data, data before an event name', async () => {
  const msgs = await collect(['data:x\n\ndata: \n\ndata\n\ndata:  two spaces\n\ndata: a\nevent: e\ndata: b\n\n']);
  assert.deepEqual(msgs, [
    { event: undefined, data: 'x' },
    { event: undefined, data: '' },
    { event: undefined, data: '' },
    { event: undefined, data: ' two spaces' },
    { event: 'e', data: 'a\nb' },
  ]);
});
