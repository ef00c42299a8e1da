/**
 * Claude Code (`@anthropic-ai/claude-code`, headless `claude -p`) works unchanged through Freeway's
 * Messages door, pointed at it by `ANTHROPIC_BASE_URL` and a Freeway key, on a Claude model
 * (Anthropic emulator, passed through), a GPT model (OpenAI emulator) and a Gemini model (Gemini
 * emulator), both translated: a plain answer, a tool loop running its real Read and Bash tools (the
 * emulators script the calls, `[[call:NAME:JSON]]`, from the prompt Claude Code forwards), thinking
 * kept across turns, and `--resume` of the session. Nothing reaches beyond Freeway.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Emulator, RecordedRequest } from '../emulators/common.ts';
import { claudeSession, findClaudeBinary } from '../helpers/claude-code.ts';
import type { ClaudeSession } from '../helpers/claude-code.ts';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { ProviderName, Stack } from '../helpers/stack.ts';

const found = findClaudeBinary();
const skip = 'skip' in found ? found.skip : false;
if (skip) console.log(`# skipping Claude Code tests: ${skip}`);

let stack: Stack;
before(async () => {
  if (!skip) stack = await startStack();
});
after(async () => {
  await stack?.close();
});

/** The inference requests an emulator received since `from`. */
function calls(e: Emulator, from: number): RecordedRequest[] {
  return e.requests.slice(from).filter((r) => r.method === 'POST');
}

const emulatorOf = (p: ProviderName): Emulator => (p === 'openai' ? stack.openai : p === 'anthropic' ? stack.anthropic : stack.gemini);

for (const provider of ['anthropic', 'openai', 'google'] as const) {
  const model = MODELS[provider];
  describe(`Claude Code on ${model}`, { skip }, () => {
    let cc: ClaudeSession;
    let sessionId = '';
    before(async () => {
      cc = await claudeSession((found as { path: string }).path, { url: stack.gw.url, key: stack.key });
    });
    after(async () => {
      await cc?.close();
    });

    test('a plain answer', async () => {
      const r = await cc.run(['-p', 'Say the magic words. [[notool]] [[say:plain answer 7]]', '--model', model]);
      assert.equal(r.json.is_error, false, JSON.stringify(r.json));
      assert.equal(r.json.result, 'plain answer 7');
    });

    test('a streamed answer (stream-json): the API events come through, naming the model as asked', async () => {
      const r = await cc.run(['-p', 'Stream it. [[notool]] [[say:streamed answer]]', '--model', model], { format: 'stream-json' });
      assert.equal(r.json.type, 'result');
      assert.equal(r.json.is_error, false, JSON.stringify(r.json));
      assert.equal(r.json.result, 'streamed answer');
      const kinds = new Set(r.events.filter((e) => e.type === 'stream_event').map((e) => e.event.type));
      const expected = [
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ];
      for (const k of expected) assert.ok(kinds.has(k), k);
      const assistant = r.events.find((e) => e.type === 'assistant');
      assert.equal(assistant?.message.model, model);
    });

    test('a tool loop: Read, then Bash, then the answer', async () => {
      writeFileSync(join(cc.cwd, 'notes.txt'), 'the secret is 1234\n');
      const e = emulatorOf(provider);
      const from = e.requests.length;
      const read = JSON.stringify({ file_path: join(cc.cwd, 'notes.txt') });
      const bash = JSON.stringify({ command: 'echo from-bash-$((6*7))', description: 'Print a number' });
      const prompt = `Read the notes, then run a command. [[call:Read:${read}]] [[call:Bash:${bash}]]`;
      const r = await cc.run(['-p', prompt, '--model', model, '--allowedTools', 'Read,Bash']);
      assert.equal(r.json.is_error, false, JSON.stringify(r.json));
      assert.equal(r.json.num_turns, 3);
      assert.match(r.json.result, /from-bash-42/);
      sessionId = r.json.session_id;
      const sent = calls(e, from).map((c) => JSON.stringify(c.body));
      assert.equal(sent.length, 3);
      assert.match(sent[1], /the secret is 1234/, 'the Read result went back to the model');
      assert.match(sent[2], /from-bash-42/, 'the Bash result went back to the model');
      if (provider === 'anthropic') {
        // Thinking is on (Claude Code asks for it): every earlier assistant turn goes back starting with its thinking block.
        const last = calls(e, from).at(-1)!.body;
        assert.equal(last.thinking?.type !== undefined && last.thinking.type !== 'disabled', true);
        const assistants = last.messages.filter((m: { role: string }) => m.role === 'assistant');
        assert.equal(assistants.length, 2);
        for (const m of assistants) assert.equal(m.content[0].type, 'thinking', JSON.stringify(m.content));
      }
    });

    test('--resume continues the session', async () => {
      assert.ok(sessionId, 'the tool loop ran');
      const e = emulatorOf(provider);
      const from = e.requests.length;
      const r = await cc.run(['-p', 'And now? [[notool]] [[say:resumed fine]]', '--model', model, '--resume', sessionId]);
      assert.equal(r.json.is_error, false, JSON.stringify(r.json));
      assert.equal(r.json.result, 'resumed fine');
      const sent = JSON.stringify(calls(e, from).at(-1)!.body);
      assert.match(sent, /the secret is 1234/, 'the earlier turns went along');
      assert.match(sent, /from-bash-42/);
    });

    test('reached nothing but Freeway', () => {
      assert.deepEqual(cc.outbound, []);
    });
  });
}

describe('Claude Code with ANTHROPIC_AUTH_TOKEN (a bearer token) instead of an API key', { skip }, () => {
  test('a plain answer', async () => {
    const cc = await claudeSession((found as { path: string }).path, { url: stack.gw.url, key: stack.key }, { auth: 'auth-token' });
    try {
      const from = stack.anthropic.requests.length;
      const r = await cc.run(['-p', 'Hello. [[notool]] [[say:bearer works]]', '--model', MODELS.anthropic]);
      assert.equal(r.json.is_error, false, JSON.stringify(r.json));
      assert.equal(r.json.result, 'bearer works');
      assert.ok(calls(stack.anthropic, from).length > 0);
      assert.deepEqual(cc.outbound, []);
    } finally {
      await cc.close();
    }
  });
});
