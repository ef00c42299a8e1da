/**
 * Connections pinned to the workers of `freeway serve --workers N`: each undici Client is one
 * keep-alive connection, and /health on it names the worker the kernel gave it to, so a test can
 * spread its requests over the workers deliberately instead of hoping the kernel does.
 */
import assert from 'node:assert/strict';
import { Client } from 'undici';

export interface Pinned {
  client: Client;
  worker: number;
  pid: number;
}

/** Opens connections until each of `workers` workers has `per` of them; every client opened is pushed to `opened`. */
export async function connectionsPerWorker(url: string, per: number, opened: Client[], workers = 2): Promise<Pinned[][]> {
  const by = new Map<number, Pinned[]>();
  const full = () => [...by.values()].filter((l) => l.length >= per).length >= workers;
  for (let i = 0; i < 400 && !full(); i++) {
    const client = new Client(url, { keepAliveTimeout: 60_000, pipelining: 1 });
    opened.push(client);
    const res = await client.request({ path: '/health', method: 'GET' });
    const { worker } = (await res.body.json()) as { worker: { id: number; pid: number } };
    const list = by.get(worker.id) ?? [];
    if (list.length < per) list.push({ client, worker: worker.id, pid: worker.pid });
    else await client.close();
    by.set(worker.id, list);
  }
  const lists = [...by.values()].filter((l) => l.length >= per);
  assert.equal(lists.length, workers, 'every worker took connections');
  return lists;
}

/** A chat completion on one pinned connection. */
export function chatOn(c: Client, key: string, content: string, opts: { stream?: boolean; maxTokens?: number; signal?: AbortSignal } = {}) {
  return c.request({
    path: '/api/v1/chat/completions',
    method: 'POST',
    signal: opts.signal,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'openai/gpt-4o-mini',
      max_tokens: opts.maxTokens ?? 200,
      stream: opts.stream ?? false,
      messages: [{ role: 'user', content }],
    }),
  });
}
