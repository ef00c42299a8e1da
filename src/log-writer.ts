/**
 * Where JSON log lines go: gathered in memory and written to a file descriptor (stderr) in large
 * batches, asynchronously, so a request never waits for the pipe or the disk.
 *
 * pino's own destination (sonic-boom) did the same, but measures the byte length of its whole
 * pending buffer on every line and re-encodes a growing string: with one access line per request
 * that was most of logging's cost (`npm run bench`, operations on/off). Here a line costs an array
 * push; the batch is joined and written once per `batchBytes` (or per `everyMs` when traffic is low).
 */
import { write, writeSync } from 'node:fs';

export class BatchWriter {
  private lines: string[] = [];
  /** UTF-16 length of the pending lines: close enough to bytes for deciding when to write. */
  private pending = 0;
  private writing = false;
  private waiters: (() => void)[] = [];
  private dropped = 0;
  private readonly timer: NodeJS.Timeout;

  private readonly fd: number;
  private readonly opts: { batchBytes: number; everyMs: number; maxPendingBytes: number };

  constructor(fd: number, opts: { batchBytes: number; everyMs: number; maxPendingBytes: number }) {
    this.fd = fd;
    this.opts = opts;
    this.timer = setInterval(() => this.writeOut(), opts.everyMs);
    this.timer.unref();
    // What is still pending when the process exits is written synchronously (as pino's destination did).
    process.once('exit', () => this.flushSync());
  }

  /** Queues one line (ending in a newline). Past `maxPendingBytes` (the descriptor is stuck), lines are counted and dropped. */
  write(line: string): boolean {
    if (this.pending > this.opts.maxPendingBytes) {
      this.dropped++;
      return false;
    }
    this.lines.push(line);
    this.pending += line.length;
    if (this.pending >= this.opts.batchBytes) this.writeOut();
    return true;
  }

  /** Resolves once everything queued so far has been written. */
  flush(): Promise<void> {
    if (this.lines.length === 0 && !this.writing) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.writeOut();
    });
  }

  private take(): string {
    if (this.dropped > 0) {
      const time = new Date().toISOString();
      this.lines.push(`{"level":"warn","time":"${time}","pid":${process.pid},"dropped":${this.dropped},"msg":"log lines dropped"}\n`);
      this.dropped = 0;
    }
    const chunk = this.lines.join('');
    this.lines = [];
    this.pending = 0;
    return chunk;
  }

  private writeOut(): void {
    if (this.writing) return;
    if (this.lines.length === 0) {
      for (const w of this.waiters.splice(0)) w();
      return;
    }
    this.writing = true;
    this.send(Buffer.from(this.take()));
  }

  private send(buf: Buffer): void {
    write(this.fd, buf, 0, buf.length, null, (err, written) => {
      if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') {
        // A non-blocking pipe that is full: try again shortly, the lines wait in memory.
        setTimeout(() => this.send(buf), 10).unref();
        return;
      }
      if (!err && written < buf.length) {
        this.send(buf.subarray(written));
        return;
      }
      // Any other error (stderr closed): the batch is lost; there is nowhere to say so.
      this.writing = false;
      if (this.lines.length > 0 && (this.pending >= this.opts.batchBytes || this.waiters.length > 0)) this.writeOut();
      else for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Writes what is queued now, blocking (process exit). */
  flushSync(): void {
    clearInterval(this.timer);
    if (this.lines.length === 0) return;
    const buf = Buffer.from(this.take());
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.fd, buf, off);
    } catch {
      // EAGAIN on a full non-blocking pipe, or closed: what is left is lost.
    }
  }
}
