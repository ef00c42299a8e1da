/**
 * A whole test stack over real loopback HTTP: the three provider emulators, and a Freeway gateway
 * on a fresh SQLite file configured exactly as an operator would (env vars and, optionally, YAML).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKey } from '../../src/accounting/keys.ts';
import type { HostLookup } from '../../src/accounting/webhook-target.ts';
import { loadSettings } from '../../src/config/load.ts';
import type { Settings } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import type { Logger } from '../../src/log.ts';
import { startGateway } from '../../src/start.ts';
import type { Gateway } from '../../src/start.ts';
import { startAnthropicEmulator } from '../emulators/anthropic.ts';
import type { Emulator } from '../emulators/common.ts';
import { startGeminiEmulator } from '../emulators/gemini.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';

export const ADMIN_KEY = 'freeway-admin-test-key';

export interface Stack {
  gw: Gateway;
  /** Freeway's OpenAI-compatible base URL (`.../api/v1`). */
  baseURL: string;
  /** A fresh inference key. */
  key: string;
  openai: Emulator;
  anthropic: Emulator;
  gemini: Emulator;
  dir: string;
  settings: Settings;
  newKey(name?: string): Promise<string>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** YAML written to freeway.yaml in the stack's directory. */
  yaml?: string;
  env?: Record<string, string>;
  keepAliveMs?: number;
  /** The DNS credit-alert webhook hosts are resolved with (default: the system's). */
  lookupHost?: HostLookup;
  /** Where the gateway logs (default: silent); see captureLogger. */
  log?: Logger;
}

export interface CapturedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
}

/** A logger that keeps every line, for tests that count what an event logged. */
export function captureLogger(): Logger & { lines: CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const at = (level: CapturedLine['level']) => (msg: string) => void lines.push({ level, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const [openai, anthropic, gemini] = await Promise.all([startOpenAIEmulator(), startAnthropicEmulator(), startGeminiEmulator()]);
  const dir = mkdtempSync(join(tmpdir(), 'freeway-test-'));
  if (opts.yaml !== undefined) writeFileSync(join(dir, 'freeway.yaml'), opts.yaml);
  const env: Record<string, string> = {
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: `${openai.url}/v1`,
    ANTHROPIC_API_KEY: anthropic.apiKey,
    ANTHROPIC_BASE_URL: `${anthropic.url}/v1`,
    GEMINI_API_KEY: gemini.apiKey,
    GEMINI_BASE_URL: `${gemini.url}/v1beta`,
    DATABASE_URL: join(dir, 'freeway.db'),
    FREEWAY_ADMIN_KEY: ADMIN_KEY,
    ...(opts.env ?? {}),
  };
  const stopEmulators = () => Promise.all([openai.close(), anthropic.close(), gemini.close()]);
  let settings: Settings;
  let gw: Gateway;
  try {
    settings = await loadSettings({ env, port: 0, cwd: dir });
    if (opts.keepAliveMs !== undefined) settings.keepAliveMs = opts.keepAliveMs;
    gw = await startGateway(settings, { log: opts.log ?? createLogger('silent'), lookupHost: opts.lookupHost });
  } catch (err) {
    // A stack that cannot start leaves nothing listening: the test file fails instead of hanging on open servers.
    await stopEmulators();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const newKey = async (name = 'test') => (await createKey(gw.app.store, { name, kind: 'inference' })).key;
  let key: string;
  try {
    await gw.discovery;
    key = await newKey();
  } catch (err) {
    // The same after the gateway started: a failing step must not leave it and the emulators open.
    await gw.close();
    await stopEmulators();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    gw,
    baseURL: `${gw.url}/api/v1`,
    key,
    openai,
    anthropic,
    gemini,
    dir,
    settings,
    newKey,
    async close() {
      await gw.close();
      await stopEmulators();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The model each emulated provider serves in the end-to-end tests. */
export const MODELS = {
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-sonnet-4-5',
  google: 'google/gemini-2.5-flash',
} as const;

export type ProviderName = keyof typeof MODELS;

/**
 * The id each of those models is listed and recorded under: the canonical (OpenRouter) id.
 * `MODELS.anthropic` is Freeway's dashed alias of `anthropic/claude-sonnet-4.5`, as the README's quick start names it.
 */
export const LISTED: Record<ProviderName, string> = {
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-sonnet-4.5',
  google: 'google/gemini-2.5-flash',
};
