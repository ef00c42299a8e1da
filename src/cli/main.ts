/**
 * `freeway` command line. `freeway serve [--config FILE] [--port N] [--host H]`.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadSettings } from '../config/load.ts';
import { PRESETS } from '../providers/presets.ts';
import { startGateway } from '../start.ts';
import { catalogCommand } from './catalog-command.ts';
import { compareCommand } from './compare-command.ts';
import { accountsCommand, creditsCommand, keysCommand, usageCommand } from './operator.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);

const USAGE = `Usage: freeway serve [--config FILE] [--port N] [--host H]
       freeway keys create NAME [--limit USD] [--reset daily|weekly|monthly] [--expires ISO] [--rpm N] [--tpm N] [--account A] [--management]
       freeway keys list [--account A] [--all] | disable HASH | enable HASH | delete HASH
       freeway accounts create ID [--name N] [--postpaid] | list
       freeway credits add USD [--account A] [--note TEXT] | show [--account A]
       freeway usage [--account A] [--by day,model,provider,key] [--from DATE] [--to DATE] [--key HASH]
       freeway catalog [--config FILE] [--provider ID] [--json]   what each provider lists, mapped and priced
       freeway compare "PROMPT" -m MODEL -m MODEL ... [--system TEXT] [--max-tokens N] [--temperature T] [--key KEY] [--base-url URL] [--json]
                 one prompt to up to 6 models through a running Freeway: answers, time to first token, total time, tokens, cost

Starts the gateway. Without --config, ./freeway.yaml is used when present.
Providers are enabled by their key variables (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, ...).`;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number, got ${values.port}`);
  }
  const settings = await loadSettings({ configPath: values.config, port, host: values.host });
  const gw = await startGateway(settings);
  out(`Freeway listening on ${gw.url}  (OpenAI-compatible API at ${gw.url}/api/v1 and ${gw.url}/v1)`);
  out(`Database: ${settings.databaseUrl}${settings.configPath ? `   Config: ${settings.configPath}` : ''}`);
  if (settings.providers.length === 0) {
    out('No providers are live yet. Set a provider key and restart, for example:');
    out('  OPENAI_API_KEY=sk-... npm start');
    out(`Providers read: ${PRESETS.filter((p) => p.keyEnv).map((p) => p.keyEnv).join(', ')}`);
    out('Local servers: OLLAMA_BASE_URL, VLLM_BASE_URL, LMSTUDIO_BASE_URL, LLAMACPP_BASE_URL, or a freeway.yaml.');
  } else {
    out(`Live providers: ${settings.providers.map((p) => `${p.id} (${p.baseUrl})`).join(', ')}`);
    out(`Models in catalog: ${gw.app.catalog.size}`);
  }
  for (const s of settings.skipped) out(`Not live: ${s.id}: ${s.reason}`);
  if (gw.bootstrapKey) {
    out('');
    out('First start: created an API key. It is shown only this once; store it now:');
    out(`  ${gw.bootstrapKey}`);
    out('Set FREEWAY_ADMIN_KEY to manage keys through POST /api/v1/keys.');
  }
  const stop = async () => {
    await gw.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      await serve(rest);
      return;
    case 'keys':
      await keysCommand(rest, out);
      return;
    case 'accounts':
      await accountsCommand(rest, out);
      return;
    case 'credits':
      await creditsCommand(rest, out);
      return;
    case 'usage':
      await usageCommand(rest, out);
      return;
    case 'catalog':
      await catalogCommand(rest, out);
      return;
    case 'compare':
      await compareCommand(rest, out);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`);
      process.exit(2);
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
    console.error(`freeway: ${err.message}`);
  } else if ((err as { code?: string })?.code === 'EADDRINUSE') {
    console.error(`freeway: ${(err as Error).message} — is another Freeway running? Use --port or PORT.`);
  } else {
    console.error(`freeway: ${(err as Error)?.message ?? String(err)}`);
  }
  process.exit(1);
});
