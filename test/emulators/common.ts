/**
 * Shared machinery for the provider emulators: an HTTP server that records every request, the
 * directive language tests use to script behaviour, deterministic token counts and signatures.
 *
 * Directives, written anywhere in the last user message's text:
 *   [[error:503]]   answer with that status in the provider's own error format
 *   [[slow:200]]    wait that many ms before sending headers
 *   [[die:3]]       (streams) send that many content chunks, then destroy the socket
 *   [[malformed]]   (streams) send one chunk whose JSON is broken, then carry on
 *   [[fail:3]]      (streams) send that many chunks, then an in-band error event, and end
 *   [[parallel]]    when tools are offered, call the first tool twice in one turn
 *   [[notool]]      answer in text even when tools are offered
 *   [[say:TEXT]]    reply with exactly TEXT (up to the closing brackets)
 *   [[long]]        reply with 200 words
 *   [[drip:200]]    (streams) wait that many ms between frames (a slow model)
 *   [[keepalive]]   (streams) send the opening frames that carry no content, then only the
 *                   provider's keep-alives (every 100 ms, or [[keepalive:N]] ms) and never any
 *                   content: OpenAI a `: ` comment, Anthropic `event: ping`, Gemini nothing
 *   [[bytedrip:50]] (streams) send the first content, then the rest one byte every that many ms
 *   [[gather:N]]    (streams) hold the answer until N such requests are waiting at once (or 60 s
 *                   passed): proves that N requests reach the upstream concurrently
 *   [[gate:NAME]]   (OpenAI) hold the request until the test opens that gate (openGate), counted
 *                   while it waits (waitingAt): lets a test decide when answers come, not a clock
 *   [[bytes:N]]     reply with N characters of text, whatever max_tokens says (a huge answer;
 *                   streams send it in 4 KiB deltas)
 *   [[call:NAME:{"arg":1}]]  a script of tool calls, one a step: the Nth model turn after the user
 *                   message holding the script calls the Nth scripted tool with those arguments (if it is
 *                   offered), whatever came back from the previous one; then the model answers in text.
 *                   Lets a test drive an agent's real tools (Claude Code's Read, Bash...) turn by turn.
 */
import { createHash, createHmac } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  // Emulators inspect arbitrary JSON bodies; tests narrow what they assert on.
  // any: emulators read arbitrary client JSON; tests narrow what they assert on.
  body: any;
}

export interface Emulator {
  url: string;
  port: number;
  apiKey: string;
  requests: RecordedRequest[];
  last(): RecordedRequest;
  /**
   * Scripts a failure for the next `times` requests (of any route but the model list), in the
   * directive language (`[[error:503]]`, `[[die:3]]`, `[[slow:500]]`, `[[reset]]`, ...), as if the
   * client had written it. Lets one emulator fail while another serving the same model does not.
   */
  failNext(directives: string, times?: number): void;
  close(): Promise<void>;
}

/** Directives scripted with `failNext`, visible to `parseDirectives` for the request being handled. */
const scripted = new AsyncLocalStorage<string>();

export interface EmulatorOptions {
  port?: number;
  apiKey?: string;
  /** Keep request bodies (off for benchmarks, to keep memory flat). */
  record?: boolean;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  // any: emulators read arbitrary client JSON; tests narrow what they assert on.
  body: any,
  url: URL,
) => void | Promise<void>;

export async function startEmulator(handler: Handler, opts: EmulatorOptions = {}): Promise<Emulator> {
  const requests: RecordedRequest[] = [];
  const record = opts.record ?? true;
  const faults: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      const url = new URL(req.url ?? '/', 'http://emulator');
      if (record) requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body });
      const fault = req.method === 'POST' ? (faults.shift() ?? '') : '';
      // [[reset]]: the connection drops before any response, as when a load balancer kills it.
      if (fault.includes('[[reset]]') || raw.includes('[[reset]]')) {
        req.socket.destroy();
        return;
      }
      Promise.resolve(scripted.run(fault, () => handler(req, res, body, url))).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: String(err) } }));
        } else res.destroy();
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  // A backlog for thousands of connections arriving at once (node's default is 511).
  await new Promise<void>((resolve) => server.listen({ port: opts.port ?? 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey: opts.apiKey ?? 'test-key',
    requests,
    last() {
      const r = requests.at(-1);
      if (!r) throw new Error('emulator received no request');
      return r;
    },
    failNext(directives: string, times = 1) {
      for (let i = 0; i < times; i++) faults.push(directives);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Directives {
  error?: number;
  slowMs?: number;
  dieAfter?: number;
  malformed: boolean;
  failAfter?: number;
  parallel: boolean;
  noTool: boolean;
  say?: string;
  long: boolean;
  /** [[drip:ms]]: wait that long between stream frames (a slow model). */
  dripMs?: number;
  /** [[keepalive]] / [[keepalive:ms]]: keep-alives only, every that many ms, never content. */
  keepAliveMs?: number;
  /** [[bytedrip:ms]]: after the first content, one byte every that many ms. */
  byteDripMs?: number;
  /** [[gather:N]]: wait for N such requests to be in flight at once. */
  gather?: number;
  /** [[gate:NAME]]: wait until the test opens that gate. */
  gate?: string;
  /** [[bytes:N]]: a reply of N characters. */
  bytes?: number;
  /** [[served:TIER]]: the processing tier the answer says it was served at (OpenAI: flex served as default). */
  served?: string;
}

/**
 * Streams across all emulators in this process: how many lost their client before the last frame,
 * how many are waiting for their client to read ('drain'), and the bytes handed to sockets.
 */
export const streamStats = { clientAborts: 0, waitingForDrain: 0, bytesWritten: 0 };

/** Whether a failure was scripted with `failNext` for the request being handled. */
export function hasScriptedFault(): boolean {
  return (scripted.getStore() ?? '') !== '';
}

export function parseDirectives(text: string): Directives {
  const extra = scripted.getStore();
  if (extra) text = `${text} ${extra}`;
  const num = (name: string): number | undefined => {
    const m = new RegExp(`\\[\\[${name}:(\\d+)\\]\\]`).exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const say = /\[\[say:([\s\S]*?)\]\]/.exec(text);
  return {
    error: num('error'),
    slowMs: num('slow'),
    dieAfter: num('die'),
    malformed: text.includes('[[malformed]]'),
    failAfter: num('fail'),
    parallel: text.includes('[[parallel]]'),
    noTool: text.includes('[[notool]]'),
    say: say ? say[1] : undefined,
    long: text.includes('[[long]]'),
    dripMs: num('drip'),
    keepAliveMs: text.includes('[[keepalive]]') ? 100 : num('keepalive'),
    byteDripMs: num('bytedrip'),
    gather: num('gather'),
    gate: /\[\[gate:([\w-]+)\]\]/.exec(text)?.[1],
    bytes: num('bytes'),
    served: /\[\[served:([a-z_]+)\]\]/.exec(text)?.[1],
  };
}

export interface ScriptedCall {
  name: string;
  args: Record<string, unknown>;
}

/** The `[[call:NAME:JSON]]` script of a user message's text, in order (a call whose JSON is broken is skipped). */
export function scriptedCalls(text: string): ScriptedCall[] {
  const out: ScriptedCall[] = [];
  for (const m of text.matchAll(/\[\[call:([a-zA-Z0-9_.:-]+?):(\{[\s\S]*?\})\]\]/g)) {
    try {
      const args: unknown = JSON.parse(m[2]);
      if (typeof args === 'object' && args !== null && !Array.isArray(args)) {
        out.push({ name: m[1], args: args as Record<string, unknown> });
      }
    } catch {
      // Not a call the test meant: ignored, as any unknown text is.
    }
  }
  return out;
}

/**
 * The scripted call due now. `turns` are the conversation's turns, oldest first: each a user turn
 * with its text, or a model turn that called tools. The script is the latest user text that has one;
 * the model turns after it that called tools are the steps already taken.
 */
export function dueScriptedCall(turns: Array<{ userText?: string; calledTools?: boolean }>): ScriptedCall | undefined {
  for (let i = turns.length - 1; i >= 0; i--) {
    const script = turns[i].userText !== undefined ? scriptedCalls(turns[i].userText as string) : [];
    if (script.length === 0) continue;
    const done = turns.slice(i + 1).filter((t) => t.calledTools).length;
    return script[done];
  }
  return undefined;
}

export function stripDirectives(text: string): string {
  return text.replace(/\[\[[a-z]+(:[\s\S]*?)?\]\]/g, '').trim();
}

/** The emulators' tokenizer: one token per 4 characters, rounded up; deterministic. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The reply an emulator gives to a plain text turn. */
export function replyText(emulatorName: string, lastUserText: string, d: Directives): string {
  if (d.say !== undefined) return d.say;
  if (d.bytes !== undefined) return 'lorem ipsum dolor sit amet '.repeat(Math.ceil(d.bytes / 27)).slice(0, d.bytes);
  if (d.long) return Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
  return `Hello from ${emulatorName}! You said: ${stripDirectives(lastUserText)}`;
}

const HUGE_REPLY = 256 * 1024;

/** Splits a reply into stream deltas the way real APIs do: a few characters at a time. */
export function chunkText(text: string, size = 8): string[] {
  // A huge reply ([[bytes:N]]) in a few characters per frame would be hundreds of MB of frames.
  if (text.length > HUGE_REPLY) size = 4096;
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

/** Arguments that satisfy a JSON Schema object, deterministically. */
export function argsFromSchema(schema: unknown): Record<string, unknown> {
  const s = (schema ?? {}) as { properties?: unknown };
  const out: Record<string, unknown> = {};
  // A malformed schema (properties or a property that is not an object) takes any value: a string serves.
  const properties = isSchema(s.properties) ? s.properties : {};
  for (const [key, prop] of Object.entries(properties)) out[key] = valueFor(prop, key);
  return out;
}

function isSchema(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueFor(schema: unknown, key: string): unknown {
  const prop = (isSchema(schema) ? schema : {}) as { type?: string | string[]; enum?: unknown[]; items?: unknown; properties?: unknown };
  if (Array.isArray(prop.enum) && prop.enum.length > 0) return prop.enum[0];
  const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
  switch (type) {
    case 'number':
    case 'integer':
      return 42;
    case 'boolean':
      return true;
    case 'array':
      return [valueFor(prop.items ?? { type: 'string' }, key)];
    case 'object':
      return argsFromSchema(prop);
    case 'null':
      return null;
    default:
      return key === 'city' || key === 'location' ? 'Paris' : `${key}-value`;
  }
}

const SIGNING_SECRET = 'freeway-emulator-signing-secret';

/** A signature over reasoning text, verifiable on the next turn as real providers do. */
export function sign(text: string): string {
  return createHmac('sha256', SIGNING_SECRET).update(text).digest('base64');
}

export function verify(text: string, signature: unknown): boolean {
  return typeof signature === 'string' && signature === sign(text);
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How many requests the last [[gather:N]] saw waiting at once, across all emulators in this process. */
export const gatherStats = { peak: 0, timedOut: 0 };
const gathering = new Map<number, { waiting: number; release: () => void; released: Promise<void> }>();
const GATHER_TIMEOUT_MS = 60_000;

/** Holds a request until `n` requests are waiting here at once (or the timeout passed). */
async function gather(n: number): Promise<void> {
  let g = gathering.get(n);
  if (!g) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    g = { waiting: 0, release, released };
    gathering.set(n, g);
  }
  g.waiting++;
  gatherStats.peak = Math.max(gatherStats.peak, g.waiting);
  if (g.waiting >= n) {
    gathering.delete(n);
    g.release();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), GATHER_TIMEOUT_MS)));
  if (await Promise.race([g.released.then(() => false), timedOut])) {
    gatherStats.timedOut++;
    if (gathering.get(n) === g) gathering.delete(n);
    g.release();
  }
  clearTimeout(timer);
}

const gates = new Map<string, { waiting: number; open: () => void; opened: Promise<void> }>();

function gateNamed(name: string) {
  let g = gates.get(name);
  if (!g) {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    g = { waiting: 0, open, opened };
    gates.set(name, g);
  }
  return g;
}

/** Holds a request at the gate `name` until the test opens it. */
export async function passGate(name: string): Promise<void> {
  const g = gateNamed(name);
  g.waiting++;
  await g.opened;
  g.waiting--;
}

/** How many requests wait at the gate `name`. */
export function waitingAt(name: string): number {
  return gates.get(name)?.waiting ?? 0;
}

/** Lets every request at the gate `name` through, and any that comes later. */
export function openGate(name: string): void {
  gateNamed(name).open();
}

/** Resolves when the response's buffer has room again, or the connection is gone. */
function drained(res: ServerResponse): Promise<void> {
  streamStats.waitingForDrain++;
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      streamStats.waitingForDrain--;
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export interface WriteFramesOptions {
  headers?: Record<string, string>;
  errorFrame?: string;
  /** How many leading frames carry no content (a role-only delta, `message_start`, `ping`...). */
  preamble?: number;
  /** The provider's keep-alive, for [[keepalive]] (none: the provider sends nothing while silent). */
  keepAlive?: string;
}

/**
 * Writes an SSE stream of pre-rendered frames (`data: ...\n\n` each), honouring [[die:N]],
 * [[malformed]], [[fail:N]], [[drip:ms]], [[keepalive]], [[bytedrip:ms]] and [[gather:N]].
 */
export async function writeFrames(res: ServerResponse, frames: string[], d: Directives, opts: WriteFramesOptions = {}): Promise<void> {
  if (d.gather !== undefined) await gather(d.gather);
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...(opts.headers ?? {}),
  });
  let sent = 0;
  let flushed: Promise<void> | undefined;
  let finished = false;
  res.on('close', () => {
    if (!finished) streamStats.clientAborts++;
  });
  const preamble = opts.preamble ?? 0;
  if (d.keepAliveMs !== undefined) {
    // The opening, then keep-alives until the client gives up; never content, never an end.
    res.write(frames.slice(0, preamble).join(''));
    const keepAlive = opts.keepAlive;
    if (keepAlive !== undefined) {
      const timer = setInterval(() => res.write(keepAlive), d.keepAliveMs);
      res.on('close', () => clearInterval(timer));
    }
    return;
  }
  if (d.byteDripMs !== undefined) {
    // The first content arrives whole; every later event a byte at a time.
    res.write(frames.slice(0, preamble + 1).join(''));
    const rest = Buffer.from(frames.slice(preamble + 1).join(''));
    for (let i = 0; i < rest.length; i++) {
      await sleep(d.byteDripMs);
      if (res.destroyed) return;
      res.write(rest.subarray(i, i + 1));
    }
    finished = true;
    res.end();
    return;
  }
  for (const frame of frames) {
    if (res.destroyed) return;
    if (d.dripMs !== undefined && sent > 0) await sleep(d.dripMs);
    // [[die:N]]: the connection drops after N frames, as when an upstream process crashes.
    if (d.dieAfter !== undefined && sent >= d.dieAfter) {
      // Node corks response writes until the next tick: a destroy right away would lose the N frames.
      if (flushed) await flushed;
      finished = true;
      res.destroy();
      return;
    }
    // [[fail:N]]: the provider reports a failure in-band after N frames, then ends the stream; all
    // in one write, as a fast upstream's would arrive.
    if (d.failAfter !== undefined && opts.errorFrame) {
      finished = true;
      res.end(frames.slice(0, d.failAfter).join('') + opts.errorFrame);
      return;
    }
    streamStats.bytesWritten += Buffer.byteLength(frame);
    if (d.dieAfter !== undefined && sent + 1 === d.dieAfter) flushed = new Promise((resolve) => res.write(frame, () => resolve()));
    // A real server sends no faster than its client reads: wait while the socket's buffer is full.
    else if (!res.write(frame)) await drained(res);
    sent++;
    if (d.malformed && sent === 2) res.write('data: {"broken": \n\n');
  }
  finished = true;
  res.end();
}
