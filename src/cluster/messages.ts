/**
 * What the primary and its workers say to each other over the cluster's IPC channel. Every message
 * carries `fw` so anything else on the channel (node:cluster's own traffic) is left alone.
 */

/** Rate-store operations a worker asks the primary to decide (see rate-server.ts). */
export type RateOp = 'take' | 'acquire' | 'acquireSlot' | 'releaseSlot' | 'adjust';

/** One call: id (per worker), operation, its arguments as RateStore takes them. */
export type RateCall = [id: number, op: RateOp, args: unknown[]];

/** One answer: id, and the value or the error's message. */
export type RateReply = [id: number, ok: true, value: unknown] | [id: number, ok: false, message: string];

export type WorkerMessage =
  /** Calls made during one turn of the worker's event loop, sent together. */
  | { fw: 'rate'; calls: RateCall[] }
  /** The worker serves: its gateway's URL, the port it bound (the others bind the same one), its catalog's size. */
  | { fw: 'listening'; url: string; port: number; models: number }
  /** The worker could not start (bad config, port taken): the primary stops rather than retrying forever. */
  | { fw: 'failed'; message: string; code?: string };

export type PrimaryMessage =
  | { fw: 'rate'; replies: RateReply[] }
  /** Drain and exit: stop taking connections, settle, give up the lease. */
  | { fw: 'stop' };

export function isFreewayMessage(m: unknown): m is { fw: string } {
  return typeof m === 'object' && m !== null && typeof (m as { fw?: unknown }).fw === 'string';
}
