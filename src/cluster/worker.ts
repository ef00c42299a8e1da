/**
 * One worker of `freeway serve --workers N`: a whole gateway (startGateway, as a single process
 * runs it) on the shared port, bound with SO_REUSEPORT; its rate limits decided by the primary
 * unless Redis is configured. It drains and exits when the primary asks (or on SIGTERM), and when
 * the primary is gone (the IPC channel closes), so no worker outlives its supervisor.
 */
import type { Settings } from '../config/load.ts';
import { startGateway } from '../start.ts';
import type { Gateway } from '../start.ts';
import { IpcRateStore } from './ipc-rate-store.ts';
import type { Channel } from './ipc-rate-store.ts';
import { isFreewayMessage } from './messages.ts';
import type { WorkerMessage } from './messages.ts';
import { WORKER_PORT_ENV } from './primary.ts';

export async function runWorker(settings: Settings): Promise<void> {
  const channel = process as unknown as Channel;
  const send = (m: WorkerMessage) => {
    if (process.connected) process.send!(m);
  };
  const port = process.env[WORKER_PORT_ENV] ? Number(process.env[WORKER_PORT_ENV]) : settings.port;
  let gw: Gateway;
  try {
    gw = await startGateway(
      { ...settings, port },
      // With Redis the workers share limits there, as separate machines do.
      {
        sharedLimits: settings.redisUrl ? undefined : new IpcRateStore(channel),
        reusePort: true,
        // The primary checkpoints the shared SQLite file (primary.ts): no checkpointer thread per worker.
        checkpointsElsewhere: true,
      },
    );
  } catch (err) {
    send({ fw: 'failed', message: (err as Error)?.message ?? String(err), code: (err as { code?: string })?.code });
    process.exit(1);
  }
  let _stopping: Promise<void> | undefined;
  const stop = () => {
    _stopping ??= gw.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  channel.on('message', (m: unknown) => {
    if (isFreewayMessage(m) && m.fw === 'stop') stop();
  });
  process.once('SIGTERM', stop);
  // Ctrl-C reaches every process of the terminal's group: the primary decides, and sends 'stop'.
  process.on('SIGINT', () => {});
  process.once('disconnect', stop);
  const addr = new URL(gw.url);
  send({ fw: 'listening', url: gw.url, port: Number(addr.port), models: gw.app.catalog.size });
}
