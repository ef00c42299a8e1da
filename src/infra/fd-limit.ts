/**
 * How many files (sockets included) this process may have open. Every stream holds two sockets,
 * the client's and the upstream's, so this bounds the concurrent streams one process can serve.
 * Node raises the soft limit to the hard one at start-up by itself; only the hard limit (the
 * operator's `ulimit -Hn`, systemd's `LimitNOFILE=`) can stand in the way.
 */
import { readFileSync } from 'node:fs';

/** Below this, start-up warns (it allows fewer than about 2,000 concurrent streams). */
export const MIN_FILE_DESCRIPTORS = 4_096;

/** The soft limit on open files, from /proc (Linux); undefined where it cannot be read or is unlimited. */
export function fileDescriptorLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const n = Number(line?.[1]);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
