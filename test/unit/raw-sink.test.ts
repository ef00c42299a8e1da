/**
 * The raw Anthropic stream relay holds back the closing events (`message_delta` with the final
 * usage, `message_stop`) until the charge is committed, and lets everything before them through
 * as it comes, however the upstream's reads split the frames. Before the first content nothing goes
 * out, and the upstream's own error event waits for the end (another endpoint may carry on).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawSink } from '../../src/doors/anthropic/passthrough.ts';

const frame = (event: string, data: object) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const STREAM =
  frame('message_start', { type: 'message_start', message: { id: 'msg_1' } }) +
  frame('content_block_start', { type: 'content_block_start', index: 0 }) +
  frame('content_block_delta', {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text: 'Hello, message_stop world' },
  }) +
  frame('ping', { type: 'ping' }) +
  frame('content_block_stop', { type: 'content_block_stop', index: 0 });
const CLOSING =
  frame('message_delta', { type: 'message_delta', usage: { output_tokens: 5 } }) + frame('message_stop', { type: 'message_stop' });

function relay(reads: string[]): { beforeRelease: string; after: string } {
  let out = '';
  const sink = new RawSink();
  sink.connect((t) => {
    out += t;
    return undefined;
  });
  sink.release(); // the first content has arrived
  for (const r of reads) sink.write(r);
  const beforeRelease = out;
  out += sink.ending(false);
  return { beforeRelease, after: out };
}

test('content flows at once; the closing events wait for release, whatever the read boundaries', () => {
  const all = STREAM + CLOSING;
  const splits: string[][] = [[all], [STREAM, CLOSING]];
  // Every split point in two reads, and reads of 1, 3 and 7 characters.
  for (let i = 1; i < all.length; i += 5) splits.push([all.slice(0, i), all.slice(i)]);
  for (const size of [1, 3, 7])
    splits.push(Array.from({ length: Math.ceil(all.length / size) }, (_, i) => all.slice(i * size, (i + 1) * size)));
  for (const reads of splits) {
    const { beforeRelease, after } = relay(reads);
    assert.equal(after, all, 'every byte is relayed, in order');
    assert.ok(
      !beforeRelease.includes('message_delta') && !beforeRelease.includes('event: message_stop'),
      'nothing of the closing events before release',
    );
    const read = reads.join('');
    // Content up to the closing events leaves without waiting (a frame may wait only while it could still be a closing one).
    const cut = Math.min(read.length, STREAM.length);
    assert.ok(
      beforeRelease.length >= cut - 'event: message_'.length - 2,
      `content relayed before release (${beforeRelease.length} of ${cut})`,
    );
  }
});

test('a stream with no closing events (cut off) loses nothing', () => {
  const { beforeRelease, after } = relay([STREAM.slice(0, 100), STREAM.slice(100)]);
  assert.equal(beforeRelease, STREAM);
  assert.equal(after, STREAM);
});

test('nothing goes out before the first content; an upstream error event is held for the end, never relayed on its own', () => {
  let out = '';
  const sink = new RawSink();
  sink.connect((t) => {
    out += t;
    return undefined;
  });
  const [start, ...rest] = STREAM.split(/(?<=\n\n)/);
  sink.write(start);
  assert.equal(out, '', 'message_start waits for content');
  sink.release();
  assert.equal(out, start);
  const error = frame('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  sink.write(rest[0] + error);
  assert.equal(out, start + rest[0], 'the error event is not relayed as it arrives');
  assert.equal(sink.ending(true), error, 'it is what a failed leg ends with');
});
