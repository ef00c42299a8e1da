/**
 * The client-connection settings and their defaults; src/http/client-limits.ts says how each one
 * is enforced.
 */
export interface ClientLimits {
  /** Until a request's headers have all arrived (a client sending a byte at a time is cut off). */
  headersTimeoutMs: number;
  /** Until the whole request (headers and body) has arrived. Not the response: streams run long. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
  /** Open client connections at most; one more is answered 503 and closed. */
  maxConnections: number;
  /** How long a response with bytes waiting may see its client accept none before it is cut off. */
  sendTimeoutMs: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 4096,
  sendTimeoutMs: 60_000,
};
