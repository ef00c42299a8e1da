/**
 * A guard on the global fetch for clients tested in-process (LangChain, OpenClaw's model layer):
 * every host but loopback is refused and recorded in `outbound`, and the JSON bodies sent to
 * Freeway (`freewayUrl()`, read at each call since the stack starts later) are kept in `sent`.
 */
export interface LoopbackFetch {
  // any: request bodies as the client sent them, read loosely by the assertions.
  sent: Array<{ path: string; body: any }>;
  outbound: string[];
}

export function guardFetch(freewayUrl: () => string | undefined): LoopbackFetch {
  const guard: LoopbackFetch = { sent: [], outbound: [] };
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      guard.outbound.push(url.href);
      return Promise.reject(new TypeError(`refused: ${url.href} is beyond loopback`));
    }
    if (url.origin === freewayUrl() && typeof init?.body === 'string') guard.sent.push({ path: url.pathname, body: JSON.parse(init.body) });
    return realFetch(input, init);
  };
  return guard;
}
