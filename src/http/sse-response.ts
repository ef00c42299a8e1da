/**
 * A server-sent-events response. Headers are held back until there is something to send (so an
 * upstream failure before the first byte can still be a real HTTP status), but never longer than
 * one keep-alive interval: while the upstream is silent, a comment line keeps the connection and
 * any proxy in between from timing out.
 */
import type { ServerResponse } from 'node:http';

export class SseResponse {
  private readonly res: ServerResponse;
  private readonly headers: Record<string, string>;
  private readonly comment: string;
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private pending = '';
  private scheduled = false;
  private drained: Promise<void> | undefined;

  constructor(res: ServerResponse, headers: Record<string, string>, opts: { keepAliveMs: number; comment?: string }) {
    this.res = res;
    this.headers = headers;
    this.comment = `: ${opts.comment ?? 'FREEWAY PROCESSING'}\n\n`;
    this.lastWrite = performance.now();
    const every = opts.keepAliveMs;
    this.timer = setInterval(() => {
      if (performance.now() - this.lastWrite >= every - 5) this.write(this.comment);
    }, every);
    this.timer.unref();
  }

  /** Whether the response has begun: headers sent, or a frame queued that will send them. */
  get headersSent(): boolean {
    return this.res.headersSent || this.scheduled;
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  open(): void {
    if (this.res.headersSent) return;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...this.headers,
    });
  }

  /**
   * Queues a frame. Frames queued within one turn of the event loop (everything parsed from one
   * upstream read) leave in a single socket write. Returns a promise only while the client is not
   * keeping up, so callers await nothing on the fast path.
   */
  write(frame: string): Promise<void> | undefined {
    if (this.closed) return undefined;
    this.pending += frame;
    this.lastWrite = performance.now();
    // A burst past the socket's buffer size goes out at once: written now, a client that is not
    // reading is seen at once (`drained`), before more of the upstream is read into memory.
    if (this.pending.length >= this.res.writableHighWaterMark) {
      this.flush();
      return this.drained;
    }
    if (!this.res.headersSent) {
      // The first frame leaves now, with the headers, not when the callback that queued it is done:
      // an upstream read can hold a whole short answer, delivered as many events in one callback,
      // and time to first byte is what a streaming client feels. Node's response corks its socket
      // until the next tick; uncorking sends at once.
      this.flush();
      const socket = this.res.socket;
      if (socket && socket.writableCorked > 0) socket.uncork();
    } else if (!this.scheduled) {
      // Later frames wait for the event loop's turn, which gathers what several reads bring.
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return this.drained;
  }

  data(json: string): Promise<void> | undefined {
    return this.write(`data: ${json}\n\n`);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    this.open();
    const ok = this.res.write(this.pending);
    this.pending = '';
    if (!ok && !this.drained) {
      this.drained = new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          this.drained = undefined;
          resolve();
        };
        this.res.on('drain', done);
        this.res.on('close', done);
      });
    }
  };

  end(): void {
    this.stop();
    if (this.closed) return;
    this.open();
    const rest = this.pending;
    this.pending = '';
    if (rest.length > 0) this.res.end(rest);
    else this.res.end();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
