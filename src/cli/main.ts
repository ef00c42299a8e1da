import { ConfigError } from '../config/load.ts';
import { catalogCommand } from './catalog-command.ts';
import { compareCommand } from './compare-command.ts';
import { serve } from './serve.ts';
import { accountsCommand, creditsCommand, keysCommand, usageCommand } from './operator.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);

const USAGE = `Usage: freeway serve [--config FILE] [--port N] [--host H] [--workers N|auto]
       freeway keys create NAME [--limit USD] [--reset daily|weekly|monthly] [--expires ISO] [--rpm N] [--tpm N] [--account A] [--management]
       freeway keys list [--account A] [--all] | disable HASH | enable HASH | delete HASH
       freeway accounts create ID [--name N] [--postpaid] | list
       freeway credits add USD [--account A] [--note TEXT] | show [--account A]
       freeway usage [--account A] [--by day,model,provider,key] [--from DATE] [--to DATE] [--key HASH]
       freeway catalog [--config FILE] [--provider ID] [--json]   what each provider lists, mapped and priced
       freeway compare "PROMPT" -m MODEL -m MODEL ... [--system TEXT] [--max-tokens N] [--temperature T] [--key KEY] [--base-url URL] [--json]
                 one prompt to up to 6 models through a running Freeway: answers, time to first token, total time, tokens, cost

Starts the gateway. Without --config, ./freeway.yaml is used when present. --workers (also
FREEWAY_WORKERS, server.workers; default 1) serves the port from that many processes, auto = one per core.
Providers are enabled by their key variables (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, ...).`;

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      await serve(rest, out, USAGE);
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
