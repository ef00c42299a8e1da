/**
 * WAL checkpoints on a thread of their own. SQLite normally checkpoints inside whichever commit
 * crosses its threshold: copying a thousand pages into the database file and syncing it, for
 * milliseconds, on the event loop, in the middle of other requests. Here a worker thread with its
 * own connection checkpoints every `everyMs` instead (PASSIVE: it never blocks the writer), and
 * the serving connection turns its automatic checkpoints off.
 */
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

// Plain JavaScript (an eval'd CommonJS worker), so it runs the same from src/ and from dist/.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 10000');
const checkpoint = () => {
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or gone: the next round tries again.
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('closed');
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `path` off the event loop; undefined when a worker cannot be started.
 * `onLost` is told if the worker dies, so the connection can checkpoint for itself again.
 */
export function startCheckpointer(path: string, onLost: () => void, everyMs = 1_000): Checkpointer | undefined {
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { eval: true, workerData: { path, everyMs } });
  } catch {
    return undefined;
  }
  let exited = false;
  let stopping = false;
  // Never what keeps a process alive; a store left open simply stops being checkpointed.
  worker.unref();
  worker.on('error', () => {});
  worker.once('exit', () => {
    exited = true;
    if (!stopping) onLost();
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        if (exited) return resolve();
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      }),
  };
}

/**
 * Checkpoints `path` every `everyMs` on the calling thread: for a process that serves no request
 * (the primary of several workers), where a checkpoint's milliseconds hold up nobody and a thread
 * of its own would cost ~18 MB of resident memory in every worker instead of none.
 */
export function checkpointOnThisThread(path: string, everyMs = 1_000): Checkpointer {
  const db = new DatabaseSync(path);
  // PASSIVE never waits for readers or writers; a round that finds the checkpoint lock taken is skipped.
  db.exec('PRAGMA busy_timeout = 0');
  const checkpoint = () => {
    try {
      db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or gone: the next round tries again.
    }
  };
  const timer = setInterval(checkpoint, everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      checkpoint();
      db.close();
    },
  };
}
