/**
 * The child side of the benchmark's IPC: answers `{ id, type }` requests from the parent with
 * `{ id, result }` (or `{ id, error }`). Every child answers `stats` (its own CPU time and memory,
 * measured inside the process) and exits when the parent goes away.
 */
import { subscribe } from 'node:diagnostics_channel';

export interface ChildStats {
  /** process.cpuUsage(): user + system CPU time, microseconds. */
  cpuUs: number;
  /** The system (kernel) part of cpuUs. */
  sysUs: number;
  /** Resident set size now, bytes. */
  rss: number;
  /** RSS high-water mark since the process started (getrusage ru_maxrss), bytes. */
  maxRss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** HTTP requests this process has received so far (node:http's diagnostics channel). */
  requests: number;
}

let requests = 0;
subscribe('http.server.request.start', () => {
  requests++;
});

export function statsNow(): ChildStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuUs: cpu.user + cpu.system,
    sysUs: cpu.system,
    rss: mem.rss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    heapTotal: mem.heapTotal,
    heapUsed: mem.heapUsed,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    requests,
  };
}

type Handlers = Record<string, () => unknown>;

export function serveParent(handlers: Handlers): void {
  if (!process.send) throw new Error('bench child: must be started with an IPC channel (fork)');
  const all: Handlers = { stats: statsNow, ...handlers };
  process.on('message', (msg: { id: number; type: string }) => {
    const handler = all[msg.type];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown request ${msg.type}`);
        return handler();
      })
      .then(
        (result) => process.send?.({ id: msg.id, result }),
        (err: unknown) => process.send?.({ id: msg.id, error: String((err as Error)?.stack ?? err) }),
      );
  });
  // The parent died or let go: nothing left to serve.
  process.on('disconnect', () => process.exit(0));
}

/** Tells the parent the child is ready, with whatever it needs to know (URLs, keys). */
export function ready(info: Record<string, unknown>): void {
  process.send?.({ ready: info });
}
