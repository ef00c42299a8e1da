/**
 * How many worker processes serve the port. The default is 1: one process serves several thousand
 * requests a second on one core, which few self-hosted gateways need, and every worker costs its
 * own memory (~100 MB) and its own upstream connections. `auto` is one per core the process may
 * run on (os.availableParallelism: CPU affinity, not a container's CPU quota — give a quota'd
 * container an explicit count).
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from './load.ts';

export const MAX_WORKERS = 1024;

export function resolveWorkers(value: string | number | undefined, source: string): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return availableParallelism();
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new ConfigError(
      `${source} must be a whole number of worker processes from 1 to ${MAX_WORKERS}, or auto; got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
