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

  constructor(res: ServerResponse, headers: Record<string, string>, opts: { keepAliveMs: number; comment?: string }) {
    this.res = res;
    this.headers = headers;
    this.comment = `: ${opts.comment ?? 'FREEWAY PROCESSING'}\n\n`;
    this.lastWrite = performance.now();
    const every = opts.keepAliveMs;
    this.timer = setInterval(() => {
      if (performance.now() - this.lastWrite >= every - 5) void this.write(this.comment);
    }, every);
    this.timer.unref();
  }

  get headersSent(): boolean {
    return this.res.headersSent;
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

  /** Writes a frame; waits for the client to drain when its buffer is full. */
  async write(frame: string): Promise<void> {
    if (this.closed) return;
    this.open();
    this.lastWrite = performance.now();
    if (this.res.write(frame)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  data(json: string): Promise<void> {
    return this.write(`data: ${json}\n\n`);
  }

  end(): void {
    this.stop();
    if (!this.closed) {
      this.open();
      this.res.end();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
