/**
 * `node bench/cluster-accept.ts`: how two worker processes should share one port, measured on a
 * hello-world server with a new connection per request (the case where it matters; keep-alive
 * clients make few connections). `rr`: node:cluster's default, the primary accepts every
 * connection and hands it to a worker over IPC. `reuseport`: each worker binds the port itself
 * with SO_REUSEPORT and the kernel spreads connections; the primary never touches them. Prints
 * connections per second and the server CPU (primary + workers) per connection. Freeway uses
 * reuseport (src/cluster/primary.ts).
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const mode = process.env.ACCEPT_MODE ?? 'rr';

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(x[11]) + Number(x[12]);
}

if (cluster.isPrimary && !process.env.ACCEPT_MODE) {
  // The parent: runs each mode in a fresh primary.
  const { spawnSync } = await import('node:child_process');
  for (const m of ['rr', 'reuseport', 'rr', 'reuseport']) {
    spawnSync(process.execPath, [import.meta.filename], { env: { ...process.env, ACCEPT_MODE: m }, stdio: 'inherit' });
  }
} else if (cluster.isPrimary) {
  let port = 0;
  const fork = () =>
    new Promise<void>((resolve) => {
      // Round robin shares the primary's port-0 handle; reuseport binds the port the first worker got.
      const w = cluster.fork({ BIND_PORT: mode === 'rr' ? '0' : String(port) });
      w.on('message', (m: { port: number }) => {
        port = m.port;
        resolve();
      });
    });
  await fork();
  await fork();
  const cpu = () => [process.pid, ...Object.values(cluster.workers ?? {}).map((w) => w!.process.pid!)].reduce((s, p) => s + cpuTicks(p), 0);
  const one = () =>
    new Promise<void>((resolve) => {
      const r = http.get({ port, host: '127.0.0.1', agent: false, headers: { connection: 'close' } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      r.on('error', () => resolve());
    });
  const run = async (n: number) => {
    let i = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (i++ < n) await one();
      }),
    );
  };
  await run(2_000);
  const c0 = cpu();
  const t0 = performance.now();
  await run(8_000);
  const ticks = cpu() - c0;
  const secs = (performance.now() - t0) / 1000;
  const perConnUs = (ticks * 10_000) / 8_000;
  console.log(`${mode.padEnd(9)}: ${(8_000 / secs).toFixed(0)} connections/s, server CPU ${perConnUs.toFixed(0)} µs per connection`);
  process.exit(0);
} else {
  const s = http.createServer((_req, res) => res.end('ok'));
  s.listen({ port: Number(process.env.BIND_PORT), host: '127.0.0.1', reusePort: mode === 'reuseport' }, () => {
    process.send!({ port: (s.address() as { port: number }).port });
  });
}
