/**
 * The deadlines of one upstream call, in one place. Every deadline counts from when the request
 * has reached the upstream, never while it waits: an endpoint's queue (the only place a request
 * may wait, with its own deadline, `limits.queue.maxWaitMs`) is before the call, and the HTTP
 * agent has no socket cap, so nothing queues inside it.
 *
 *   connect      a new connection (DNS, TCP, TLS) is up within `connectMs`.
 *   first token  from the request being on a connected socket: a streamed answer's first content
 *                (text, reasoning or a tool call — not comments, keep-alive events such as
 *                Anthropic's `ping`, or chunks that only carry a role or an empty delta); a whole
 *                answer's response headers. Within `firstTokenMs`.
 *   idle         after the first content, the longest gap between two complete events of a
 *                stream (a comment, a keep-alive event or an event arriving a byte at a time does
 *                not reset it); for a whole answer, between two reads of its body. `idleMs`.
 *   total        the request as a whole, from its arrival, queue waits and every attempt
 *                included (`routing.timeouts.totalMs`; gateway/call-context.ts).
 *
 * Counting events takes someone who reads them: the gateway's relay reports what each stream
 * event was (`StreamWatch`). A call made without a watch (model lists, tests of an adapter alone)
 * falls back to counting bytes.
 */

export type TimeoutPhase = 'connect' | 'first-token' | 'idle';

/** Where each phase's limit is configured, for messages that tell the operator what to change. */
const SETTING: Record<TimeoutPhase, string> = {
  connect: 'routing.timeouts.connectMs',
  'first-token': 'routing.timeouts.firstTokenMs',
  idle: 'routing.timeouts.idleMs',
};

/**
 * An upstream that took too long: to accept a connection (`connect`), to send its first content
 * (or, for a whole answer, its headers) (`first-token`), or between two events (`idle`).
 */
export class UpstreamTimeoutError extends Error {
  readonly code = 'UPSTREAM_TIMEOUT';
  readonly phase: TimeoutPhase;
  readonly ms: number;
  constructor(phase: TimeoutPhase, ms: number, what?: string) {
    super(
      `${
        phase === 'connect'
          ? `not connected within ${ms} ms`
          : phase === 'first-token'
            ? `${what ?? 'no content'} within ${ms} ms`
            : `${what ?? 'no complete event'} for ${ms} ms`
      } (${SETTING[phase]})`,
    );
    this.name = 'UpstreamTimeoutError';
    this.phase = phase;
    this.ms = ms;
  }
}

export interface UpstreamTimeouts {
  /** A new connection, DNS and TLS included. Default 10 s. */
  connectMs?: number;
  /** From the request reaching the upstream to the first content (stream) or the headers (whole answer). */
  firstTokenMs: number;
  /** Longest gap between two complete stream events after the first content (whole answer: between body reads). */
  idleMs: number;
}

export const DEFAULT_CONNECT_MS = 10_000;
export const DEFAULT_TIMEOUTS: Required<UpstreamTimeouts> = { connectMs: DEFAULT_CONNECT_MS, firstTokenMs: 120_000, idleMs: 120_000 };

/**
 * The first-token and idle deadlines of one streamed answer, counted in events. One timer at a
 * time; an event only writes a timestamp (the timer checks it when it fires), so a busy stream
 * costs no timer churn.
 */
export class EventDeadline {
  private readonly timeouts: UpstreamTimeouts;
  private readonly expire: (err: UpstreamTimeoutError) => void;
  private readonly firstDue: number;
  private phase: 'first-token' | 'idle' | 'done' = 'first-token';
  private lastEvent = 0;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;

  /** `startedAt` (performance.now()) is when the request reached the upstream. */
  constructor(timeouts: UpstreamTimeouts, startedAt: number, expire: (err: UpstreamTimeoutError) => void) {
    this.timeouts = timeouts;
    this.expire = expire;
    this.firstDue = startedAt + timeouts.firstTokenMs;
    this.schedule(this.firstDue - performance.now());
  }

  /** A complete event that means something arrived. */
  event(): void {
    this.lastEvent = performance.now();
  }

  /** Real content arrived: the first-token deadline is met, and the idle one starts. */
  content(): void {
    if (this.phase !== 'first-token') return;
    this.phase = 'idle';
    this.lastEvent = performance.now();
    this.schedule(this.timeouts.idleMs);
  }

  /**
   * The reader stopped reading (the client is not keeping up): the upstream's silence is ours, so
   * the idle clock stops until `resume`.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.lastEvent = performance.now();
  }

  stop(): void {
    this.phase = 'done';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.check, Math.max(1, ms));
    // The upstream socket keeps the process alive while it matters; the timer need not.
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = undefined;
    const now = performance.now();
    if (this.phase === 'first-token') {
      if (now >= this.firstDue) return this.fire(new UpstreamTimeoutError('first-token', this.timeouts.firstTokenMs));
      return this.schedule(this.firstDue - now);
    }
    if (this.phase !== 'idle') return;
    if (this.paused) return this.schedule(this.timeouts.idleMs);
    const quiet = now - this.lastEvent;
    if (quiet >= this.timeouts.idleMs) return this.fire(new UpstreamTimeoutError('idle', this.timeouts.idleMs));
    this.schedule(this.timeouts.idleMs - quiet);
  };

  private fire(err: UpstreamTimeoutError): void {
    this.stop();
    this.expire(err);
  }
}

/**
 * What the reader of a request's streamed answers sees, told to the deadline of the call being
 * read. A request makes one upstream call at a time (fallbacks and continuations follow one
 * another), so one watch per request follows whichever call is current.
 */
export class StreamWatch {
  private current: EventDeadline | undefined;

  /** The http client: this call's answer is an event stream, watched from now on. */
  attach(d: EventDeadline): void {
    this.current?.stop();
    this.current = d;
  }

  detach(d: EventDeadline): void {
    d.stop();
    if (this.current === d) this.current = undefined;
  }

  event(): void {
    this.current?.event();
  }

  content(): void {
    this.current?.content();
  }

  pause(): void {
    this.current?.pause();
  }

  resume(): void {
    this.current?.resume();
  }
}
