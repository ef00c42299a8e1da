/**
 * `freeway serve`: one process serving the port, or (`--workers N`) a primary supervising N worker
 * processes (src/cluster). A worker process runs this same command (node:cluster forks the CLI
 * again) and lands in runWorker.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { runWorker } from '../cluster/worker.ts';
import { Primary } from '../cluster/primary.ts';
import { ConfigError, loadSettings } from '../config/load.ts';
import type { Settings } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { PRESETS } from '../providers/presets.ts';
import { startGateway } from '../start.ts';

type Out = (s: string) => void;

export async function serve(argv: string[], out: Out, usage: string): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number, got ${values.port}`);
  }
  const settings = await loadSettings({ configPath: values.config, port, host: values.host, workers: values.workers });
  if (cluster.isWorker) return runWorker(settings);
  if (settings.workers > 1) return serveWorkers(settings, out);
  const gw = await startGateway(settings);
  banner(out, settings, { url: gw.url, models: gw.app.catalog.size, bootstrapKey: gw.bootstrapKey });
  const stop = async () => {
    await gw.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

async function serveWorkers(settings: Settings, out: Out): Promise<void> {
  const log = createLogger();
  let ready = false;
  const primary = new Primary(settings, settings.workers, log, {
    // Lines on stdout, like the banner: an operator (and the tests) see each worker come and go.
    onWorker: ({ id, pid, replacing }) => {
      if (replacing !== undefined) out(`Worker ${id} (pid ${pid}) listening, replacing worker ${replacing}`);
      else if (ready) out(`Worker ${id} (pid ${pid}) listening`);
    },
    onExit: ({ id, pid, code, signal, restartInMs }) => {
      const when = restartInMs > 0 ? ` in ${restartInMs} ms` : '';
      log.error(`worker ${id} (pid ${pid}) exited (${signal ?? `code ${code}`}); restarting it${when}`);
    },
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await primary.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const started = await primary.start();
  ready = true;
  banner(out, settings, started);
  out(`Workers: ${settings.workers} processes (pids ${started.pids.join(', ')}) on port ${started.port}`);
}

function banner(out: Out, settings: Settings, gw: { url: string; models: number; bootstrapKey?: string }): void {
  out(`Freeway listening on ${gw.url}  (OpenAI-compatible API at ${gw.url}/api/v1 and ${gw.url}/v1)`);
  out(`Database: ${settings.databaseUrl}${settings.configPath ? `   Config: ${settings.configPath}` : ''}`);
  if (settings.providers.length === 0) {
    out('No providers are live yet. Set a provider key and restart, for example:');
    out('  OPENAI_API_KEY=sk-... npm start');
    out(
      `Providers read: ${PRESETS.filter((p) => p.keyEnv)
        .map((p) => p.keyEnv)
        .join(', ')}`,
    );
    out('Local servers: OLLAMA_BASE_URL, VLLM_BASE_URL, LMSTUDIO_BASE_URL, LLAMACPP_BASE_URL, or a freeway.yaml.');
  } else {
    out(`Live providers: ${settings.providers.map((p) => `${p.id} (${p.baseUrl})`).join(', ')}`);
    out(`Models in catalog: ${gw.models}`);
  }
  for (const s of settings.skipped) out(`Not live: ${s.id}: ${s.reason}`);
  if (gw.bootstrapKey) {
    out('');
    out('First start: created an API key. It is shown only this once; store it now:');
    out(`  ${gw.bootstrapKey}`);
    out('Set FREEWAY_ADMIN_KEY to manage keys through POST /api/v1/keys.');
  }
}
