/**
 * The many-streams phase: N streamed requests at once through Freeway, each on a connection of its
 * own, held by the emulator until all N are waiting on it ([[gather:N]]), so all N are open at the
 * same moment at both ends. Reports how many completed (200, `[DONE]`, no error) and Freeway's
 * resident memory: before (idle) and its peak during the phase, sampled from /proc.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';

export interface ManyStreamsResult {
  streams: number;
  completed: number;
  /** The first failure, for the notes. */
  firstFailure?: string;
  idleRss: number;
  peakRss: number;
  ms: number;
}

function rss(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
}

function one(agent: http.Agent, origin: string, path: string, apiKey: string, content: string): Promise<{ ok: boolean; detail: string }> {
  const url = new URL(path, origin);
  const body = JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] });
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      },
      (res) => {
        // Only the end of the body matters: keep a short tail, not every answer, in the load generator.
        let tail = '';
        let error = false;
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (c.includes('"error"')) error = true;
          tail = (tail + c).slice(-64);
        });
        res.on('end', () => {
          const ok = res.statusCode === 200 && !error && tail.endsWith('data: [DONE]\n\n');
          resolve({ ok, detail: ok ? '' : `${res.statusCode}: …${tail}` });
        });
        res.on('error', (err) => resolve({ ok: false, detail: String(err) }));
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error('no answer within 120 s')));
    req.on('error', (err) => resolve({ ok: false, detail: String(err) }));
    req.end(body);
  });
}

export async function manyStreams(opts: {
  origin: string;
  path: string;
  apiKey: string;
  pid: number;
  streams: number;
}): Promise<ManyStreamsResult> {
  const idleRss = rss(opts.pid);
  let peakRss = idleRss;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rss(opts.pid));
    } catch {
      // The process went away; the phase reports its failures.
    }
  }, 10);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const t0 = performance.now();
  try {
    const results = await Promise.all(
      Array.from({ length: opts.streams }, (_, i) =>
        one(agent, opts.origin, opts.path, opts.apiKey, `bench stream ${i} [[gather:${opts.streams}]]`),
      ),
    );
    const failed = results.filter((r) => !r.ok);
    return {
      streams: opts.streams,
      completed: results.length - failed.length,
      firstFailure: failed[0]?.detail,
      idleRss,
      peakRss: Math.max(peakRss, rss(opts.pid)),
      ms: performance.now() - t0,
    };
  } finally {
    clearInterval(sampler);
    agent.destroy();
  }
}
