/**
 * Tracing's contract with the observer: a span opens with each request and ends when its response
 * closes. The OTLP exporter lives in otlp.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestFacts } from './request-facts.ts';

export interface Tracer {
  begin(f: RequestFacts, req: IncomingMessage): void;
  end(f: RequestFacts, status: number): void;
  /** Spans that could not be exported (a full buffer, a collector away). */
  readonly dropped: number;
  /** Sends what is buffered. */
  flush(): Promise<void>;
}
