/**
 * The up/down state of one dependency (Redis, PostgreSQL), as the health endpoint shows it and the
 * log tells it: one ERROR line when an outage starts, one INFO line when it ends, never a line
 * per failed request.
 */
import type { Logger } from '../log.ts';

export interface DependencyState {
  status: 'up' | 'down';
  /** When the current status began (ISO time). */
  since: string;
  /** Why it is down: the last error's message (no credentials: callers pass driver errors, not URLs). */
  reason?: string;
}

export interface OutageMessages {
  /** The ERROR line, given why. */
  down(reason: string): string;
  /** The INFO line, given how long the outage lasted. */
  up(downForMs: number): string;
}

export class Outage {
  private down = false;
  private sinceMs = Date.now();
  private reason: string | undefined;
  private readonly log: Logger | undefined;
  private readonly messages: OutageMessages;

  constructor(messages: OutageMessages, log?: Logger) {
    this.messages = messages;
    this.log = log;
  }

  get isDown(): boolean {
    return this.down;
  }

  /** Marks the dependency down; returns whether this began an outage (and logged it). */
  markDown(err: unknown): boolean {
    const reason = describe(err);
    if (this.down) {
      this.reason = reason;
      return false;
    }
    this.down = true;
    this.sinceMs = Date.now();
    this.reason = reason;
    this.log?.error(this.messages.down(reason));
    return true;
  }

  /**
   * Marks the dependency up; returns whether this ended an outage (and logged it). `startedAt`
   * (Date.now() when the operation that succeeded began) keeps an operation that was already in
   * flight when the outage began from ending it: only one begun since can say it is back.
   */
  markUp(startedAt?: number): boolean {
    if (!this.down) return false;
    if (startedAt !== undefined && startedAt <= this.sinceMs) return false;
    const downFor = Date.now() - this.sinceMs;
    this.down = false;
    this.sinceMs = Date.now();
    this.reason = undefined;
    this.log?.info(this.messages.up(downFor));
    return true;
  }

  state(): DependencyState {
    return {
      status: this.down ? 'down' : 'up',
      since: new Date(this.sinceMs).toISOString(),
      ...(this.reason ? { reason: this.reason } : {}),
    };
  }
}

/** A short, single-line reason from a driver error (its code when it has one). */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || err.name;
    const text = typeof code === 'string' && code.length > 0 && !msg.includes(code) ? `${code}: ${msg}` : msg;
    return text.replace(/\s+/g, ' ').slice(0, 300);
  }
  return String(err).slice(0, 300);
}
