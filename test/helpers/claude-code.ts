/**
 * Runs the real Claude Code CLI (`@anthropic-ai/claude-code`, a devDependency) headless against a
 * Freeway stack, as a new user would: `ANTHROPIC_BASE_URL` at Freeway, a Freeway key, nothing else.
 *
 * The npm package's `bin/claude.exe` is a placeholder until its postinstall copies the native
 * binary over it, and npm 11 skips install scripts it was not told to allow. The binary itself
 * ships in a per-platform optional dependency (`@anthropic-ai/claude-code-linux-x64`...), which
 * npm installs without any script: this helper runs it from there, so a fresh `npm ci` is enough.
 *
 * Every run gets a fresh HOME and CLAUDE_CONFIG_DIR (never the user's), telemetry, updates and
 * other non-essential traffic off, and an HTTPS proxy that only records: anything the CLI tries to
 * reach besides Freeway on loopback shows up in `outbound`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The platform package's name suffix, as the CLI's own installer computes it. */
function platformSuffix(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const musl = process.platform === 'linux' && report?.header?.glibcVersionRuntime === undefined;
  return `${process.platform}-${process.arch}${musl ? '-musl' : ''}`;
}

/** The native binary, or why there is none that runs here. */
export function findClaudeBinary(): { path: string } | { skip: string } {
  const require = createRequire(import.meta.url);
  const pkg = `@anthropic-ai/claude-code-${platformSuffix()}`;
  let path: string | undefined;
  try {
    const dir = dirname(require.resolve(`${pkg}/package.json`));
    const name = process.platform === 'win32' ? 'claude.exe' : 'claude';
    if (existsSync(join(dir, name))) path = join(dir, name);
  } catch {
    // Not installed for this platform: the wrapper's own copy may still be the real binary.
  }
  if (!path) {
    try {
      const wrapped = join(dirname(require.resolve('@anthropic-ai/claude-code/package.json')), 'bin', 'claude.exe');
      // The placeholder is a few hundred bytes; the native binary is hundreds of MB.
      if (existsSync(wrapped) && statSync(wrapped).size > 1_000_000) path = wrapped;
    } catch {
      return { skip: 'Claude Code is not installed (npm install)' };
    }
  }
  if (!path) return { skip: `Claude Code has no binary for ${platformSuffix()} (${pkg} not installed)` };
  const probe = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '' } });
  if (probe.status !== 0) {
    const why = (probe.stderr || String(probe.error ?? '')).trim().slice(0, 200);
    return { skip: `Claude Code does not run on this platform: ${why}` };
  }
  return { path };
}

export interface ClaudeResult {
  exitCode: number | null;
  /** The result object (`--output-format json`, or the last line of `stream-json`). */
  // any: the CLI's result object; tests read the few fields they assert on.
  json: any;
  /** With `stream-json`: every line, in order (the API's stream events, the assistant messages...). */
  // any: as above.
  events: any[];
  stderr: string;
}

export interface ClaudeSession {
  /** A directory the CLI runs in (its working directory), inside the session's HOME. */
  cwd: string;
  /** Hosts the CLI tried to reach through the recording proxy (should stay empty). */
  outbound: string[];
  run(args: string[], opts?: { timeoutMs?: number; format?: 'json' | 'stream-json' }): Promise<ClaudeResult>;
  close(): Promise<void>;
}

/** A proxy that accepts connections, records what they asked for, and closes them. */
async function recordingProxy(seen: string[]): Promise<Server> {
  const server = createServer((socket) => {
    socket.once('data', (d) => {
      seen.push(d.toString('latin1').split('\r\n')[0]);
      socket.destroy();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** `auth`: how the key is given — `ANTHROPIC_API_KEY` (sent as `x-api-key`) or `ANTHROPIC_AUTH_TOKEN` (a bearer token). */
export async function claudeSession(
  binary: string,
  freeway: { url: string; key: string },
  opts: { auth?: 'api-key' | 'auth-token' } = {},
): Promise<ClaudeSession> {
  const home = mkdtempSync(join(tmpdir(), 'freeway-claude-'));
  const cwd = join(home, 'project');
  mkdirSync(cwd);
  const outbound: string[] = [];
  const proxy = await recordingProxy(outbound);
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, '.claude'),
    SHELL: '/bin/sh',
    ANTHROPIC_BASE_URL: freeway.url,
    ...(opts.auth === 'auth-token' ? { ANTHROPIC_AUTH_TOKEN: freeway.key } : { ANTHROPIC_API_KEY: freeway.key }),
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    HTTPS_PROXY: proxyUrl,
    HTTP_PROXY: proxyUrl,
    NO_PROXY: '127.0.0.1,localhost',
  };
  return {
    cwd,
    outbound,
    run(args, opts = {}) {
      return new Promise((resolve, reject) => {
        const format =
          opts.format === 'stream-json'
            ? ['--output-format', 'stream-json', '--verbose', '--include-partial-messages']
            : ['--output-format', 'json'];
        const child = spawn(binary, [...format, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          try {
            const events =
              opts.format === 'stream-json'
                ? out
                    .trim()
                    .split('\n')
                    .map((l) => JSON.parse(l))
                : [];
            resolve({ exitCode: code, json: opts.format === 'stream-json' ? events.at(-1) : JSON.parse(out), events, stderr: err });
          } catch {
            reject(new Error(`claude exited ${code} without a JSON result; stdout: ${out.slice(0, 500)} stderr: ${err.slice(0, 500)}`));
          }
        });
      });
    },
    async close() {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      rmSync(home, { recursive: true, force: true });
    },
  };
}
