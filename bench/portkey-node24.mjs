// Preloaded into Portkey 1.15 on Node 24: Portkey edits the headers of the Response that fetch()
// returns, which Node 24's fetch marks immutable, so every streamed request failed with
// "TypeError: immutable" (non-streaming ones passed). Each upstream Response is re-wrapped (same
// body stream, same status and headers) so its headers can be edited. This costs Portkey one
// object per request, which is small beside what it measures.
const fetch0 = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const res = await fetch0(...args);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
};
