/**
 * Peer gateways for `npm run bench`, started beside Freeway against the same OpenAI emulator:
 *   - Portkey (`@portkey-ai/gateway`, an exact devDependency): its start-server as a child, held
 *     to 127.0.0.1 by loopback-only.mjs, told the emulator's address per request through its
 *     `x-portkey-provider` and `x-portkey-custom-host` headers.
 *   - nginx (the Debian package), only when /usr/sbin/nginx exists (never installed by the bench):
 *     a `proxy_pass` to the emulator with keep-alive upstream connections, one worker process.
 * A peer that is not there or does not start is skipped with the reason, never failing the run.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ChildStats } from './child-ipc.ts';
import { track } from './children.ts';
import { freePort, procStats } from './freeway-process.ts';
import { makeTarget, send } from './load.ts';
import type { Target } from './load.ts';
import { sleep } from './stats.ts';

export interface Peer {
  name: string;
  target: Target;
  stats(): Promise<ChildStats>;
  stop(): Promise<void>;
}

const NGINX = '/usr/sbin/nginx';

function stopper(proc: ChildProcess): () => Promise<void> {
  return async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
    proc.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  };
}

/** Waits until a non-streaming request through `t` answers 200 with a completion. */
async function untilServing(t: Target, proc: ChildProcess, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited during start-up (code ${proc.exitCode})`);
    const s = await send(t, false);
    if (s.ok) return;
    last = `status ${s.status}`;
    await sleep(100);
  }
  throw new Error(`${what} did not answer within ${ms / 1000} s (${last})`);
}

async function startPortkey(emu: { url: string; apiKey: string }, connections: number): Promise<Peer> {
  let script: string;
  try {
    script = createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js');
  } catch {
    throw new Error('@portkey-ai/gateway is not installed (npm install)');
  }
  const port = await freePort();
  const shims = ['loopback-only.mjs', 'portkey-node24.mjs'].flatMap((f) => ['--import', join(import.meta.dirname, f)]);
  const proc = spawn(process.execPath, [...shims, script, `--port=${port}`, '--headless'], {
    env: { ...process.env, NODE_ENV: 'production' },
    // BENCH_PEER_STDERR=1 shows Portkey's own error lines (it answers every failure with a bare 500).
    stdio: ['ignore', 'ignore', process.env.BENCH_PEER_STDERR ? 'inherit' : 'ignore'],
  });
  track(proc);
  const target = makeTarget({
    connections,
    name: 'Portkey',
    origin: `http://127.0.0.1:${port}`,
    path: '/v1/chat/completions',
    apiKey: emu.apiKey,
    model: 'gpt-4o-mini',
  });
  target.headers['x-portkey-provider'] = 'openai';
  target.headers['x-portkey-custom-host'] = `${emu.url}/v1`;
  const stop = stopper(proc);
  try {
    await untilServing(target, proc, 'Portkey', 20_000);
  } catch (err) {
    await target.pool.destroy();
    await stop();
    throw err;
  }
  return { name: 'Portkey', target, stats: async () => procStats(proc.pid!), stop };
}

async function startNginx(dir: string, emu: { url: string; apiKey: string }, connections: number): Promise<Peer> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is not installed (apt-get install nginx-light; the bench does not install it)`);
  const port = await freePort();
  const prefix = mkdtempSync(join(dir, 'nginx-'));
  const upstream = new URL(emu.url).host;
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'worker_processes 1;',
      'daemon off;',
      'master_process off;',
      `pid ${join(prefix, 'nginx.pid')};`,
      `error_log ${join(prefix, 'error.log')} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;`,
      `  fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;`,
      `  upstream emu { server ${upstream}; keepalive 64; }`,
      `  server { listen 127.0.0.1:${port};`,
      '    location / { proxy_pass http://emu; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }',
      '  }',
      '}',
    ].join('\n'),
  );
  const proc = spawn(NGINX, ['-p', prefix, '-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
  track(proc);
  const target = makeTarget({
    connections,
    name: 'nginx',
    origin: `http://127.0.0.1:${port}`,
    path: '/v1/chat/completions',
    apiKey: emu.apiKey,
    model: 'gpt-4o-mini',
  });
  const stop = stopper(proc);
  try {
    await untilServing(target, proc, 'nginx', 10_000);
  } catch (err) {
    await target.pool.destroy();
    await stop();
    throw err;
  }
  return { name: 'nginx', target, stats: async () => procStats(proc.pid!), stop };
}

/** Starts the peers that can start here; the others come back in `skipped` with why. */
export async function startPeers(opts: {
  dir: string;
  emu: { url: string; apiKey: string };
  connections: number;
  log: (m: string) => void;
}): Promise<{ peers: Peer[]; skipped: string[] }> {
  const peers: Peer[] = [];
  const skipped: string[] = [];
  for (const [name, start] of [
    ['Portkey', () => startPortkey(opts.emu, opts.connections)],
    ['nginx', () => startNginx(opts.dir, opts.emu, opts.connections)],
  ] as const) {
    try {
      const p = await start();
      peers.push(p);
      opts.log(`peer ${name}: serving on ${p.target.name === name ? '127.0.0.1' : ''}`);
    } catch (err) {
      skipped.push(`${name}: ${(err as Error).message}`);
      opts.log(`peer ${name} skipped: ${(err as Error).message}`);
    }
  }
  return { peers, skipped };
}

/** What the stream and throughput phases measured for one gateway (a peer, Freeway or the forwarder). */
export interface PeerMeasure {
  name: string;
  /** Stream phase: time to the first `data:` byte (ms) per sample, and CPU over the phase per stream. */
  ttfbMs?: number[];
  streamCpuUs?: number;
  /** Throughput phase: requests answered, elapsed ms, CPU µs over those phases. */
  ok?: number;
  ms?: number;
  cpuUs?: number;
}

/** The peers table: each gateway beside the others, ratios against the bare forwarder (the first row). */
export function peersTable(rows: readonly PeerMeasure[], directTtfbP50: number | undefined, p50: (xs: number[]) => number): string {
  const head = ['gateway', 'req/s, saturated (shared cores)', 'CPU per request, saturated', 'CPU per stream', 'added TTFB p50 (stream)'];
  const base = rows[0];
  const perReq = (r: PeerMeasure) => (r.cpuUs !== undefined && r.ok ? r.cpuUs / r.ok : undefined);
  const vs = (x: number | undefined, b: number | undefined) => (x !== undefined && b ? ` (${(x / b).toFixed(2)}×)` : '');
  const cells = rows.map((r) => {
    const req = perReq(r);
    const ttfb = r.ttfbMs && directTtfbP50 !== undefined ? p50(r.ttfbMs) - directTtfbP50 : undefined;
    return [
      r.name,
      r.ok !== undefined && r.ms ? `${Math.round((r.ok * 1000) / r.ms).toLocaleString('en-US')}` : '—',
      req !== undefined ? `${Math.round(req)} µs${vs(req, perReq(base))}` : '—',
      r.streamCpuUs !== undefined ? `${Math.round(r.streamCpuUs)} µs${vs(r.streamCpuUs, base.streamCpuUs)}` : '—',
      ttfb !== undefined ? `${ttfb >= 0 ? '+' : ''}${ttfb.toFixed(2)} ms` : '—',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
