/**
 * What the primary and its workers say to each other over the cluster's IPC channel. Every message
 * carries `fw` so anything else on the channel (node:cluster's own traffic) is left alone.
 */

/**
 * Rate-store operations a worker asks the primary to decide (see rate-server.ts). `lease` is a
 * take that may also hand the worker a block of further units (rate-blocks.ts); `giveBack` returns
 * what is left of one the worker no longer uses.
 */
export type RateOp = 'lease' | 'giveBack' | 'acquire' | 'acquireSlot' | 'releaseSlot' | 'adjust';

/** One call: id (per worker), operation, its arguments as RateStore takes them. */
export type RateCall = [id: number, op: RateOp, args: unknown[]];

/** One answer: id, and the value or the error's message. */
export type RateReply = [id: number, ok: true, value: unknown] | [id: number, ok: false, message: string];

/**
 * What is left of a block a worker gives back: units per rule, charged in the primary at `at`
 * (the time of the grant), to be refunded from that bucket.
 */
export interface ReturnedBlock {
  at: number;
  left: Array<[rule: string, windowMs: number, units: number]>;
}

export type WorkerMessage =
  /** Calls made during one turn of the worker's event loop, sent together. */
  | { fw: 'rate'; calls: RateCall[] }
  /** The answer to a recall: what was left of the worker's block of that key (null: it had none). */
  | { fw: 'returned'; id: number; block: ReturnedBlock | null }
  /** The worker serves: its gateway's URL, the port it bound (the others bind the same one), its catalog's size. */
  | { fw: 'listening'; url: string; port: number; models: number }
  /** The worker could not start (bad config, port taken): the primary stops rather than retrying forever. */
  | { fw: 'failed'; message: string; code?: string };

export type PrimaryMessage =
  | { fw: 'rate'; replies: RateReply[] }
  /** Give back your block of `key` at once (another worker would be refused without it). */
  | { fw: 'recall'; id: number; key: string }
  /** Drain and exit: stop taking connections, settle, give up the lease. */
  | { fw: 'stop' };

export function isFreewayMessage(m: unknown): m is { fw: string } {
  return typeof m === 'object' && m !== null && typeof (m as { fw?: unknown }).fw === 'string';
}
