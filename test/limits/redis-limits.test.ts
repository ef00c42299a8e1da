/**
 * Limits shared through the real Redis: two Limits instances with their own connections (as two
 * processes have) hold a per-key limit exactly; two real child processes do too; and an endpoint's
 * concurrency cap holds across instances, a waiter in one noticing a place freed by the other.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from '../../src/infra/redis.ts';
import { createLimits, type Limits } from '../../src/limits/limits.ts';
import { GatewayError } from '../../src/spec/errors.ts';
import { needs } from '../helpers/services.ts';
import { client, deleteNamespace, REDIS_URL, testNamespace } from './redis-helpers.ts';

const skip = await needs('redis');

const worker = fileURLToPath(new URL('./admit-worker.ts', import.meta.url));

interface Child {
  ready: Promise<void>;
  go: () => void;
  done: Promise<string>;
}

function startWorker(args: string[]): Child {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.slice('ready\n'.length)) : reject(new Error(`worker exited ${code}: ${err}`))));
  });
  // A worker that dies before it is ready must not leave the test waiting for ever.
  done.then(onReady, onReady);
  return { ready, go: () => child.stdin.write('go\n'), done };
}

describe('limits shared through Redis', { skip }, () => {
  const namespace = testNamespace();
  let r1: RedisClient;
  let r2: RedisClient;
  let l1: Limits;
  let l2: Limits;

  before(() => {
    r1 = client();
    r2 = client();
    l1 = createLimits({ redis: r1, namespace, failOpen: false });
    l2 = createLimits({ redis: r2, namespace, failOpen: false });
  });

  after(async () => {
    await l1.close();
    await l2.close();
    r1.disconnect();
    r2.disconnect();
    await deleteNamespace(namespace);
  });

  it('two instances hold N requests per minute exactly under 200 concurrent attempts', async () => {
    const N = 37;
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? l1 : l2).admitKey('shared-key', { requestsPerMinute: N }, 10)),
    );
    const admitted = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected' && r.reason instanceof GatewayError && r.reason.status === 429);
    assert.equal(admitted, N);
    assert.equal(refused.length, 200 - N);
    // Tokens per minute across instances, settled by the other instance's view.
    const settle = await l1.admitKey('tokens-key', { tokensPerMinute: 1_000 }, 900);
    await settle(100);
    await l2.admitKey('tokens-key', { tokensPerMinute: 1_000 }, 900);
    const err = await l2.admitKey('tokens-key', { tokensPerMinute: 1_000 }, 1).then(
      () => assert.fail('admitted over the token limit'),
      (e: unknown) => e as GatewayError,
    );
    assert.equal(err.headers['X-RateLimit-Remaining'], '0');
  });

  it('two processes firing 100 each against 60 per minute admit exactly 60', async () => {
    const args = [REDIS_URL, namespace, 'process-key', '100', '60'];
    const children = [startWorker(args), startWorker(args)];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const outs = (await Promise.all(children.map((c) => c.done))).map((o) => JSON.parse(o) as { admitted: number; refused: number });
    assert.equal(outs[0].admitted + outs[1].admitted, 60, JSON.stringify(outs));
    assert.equal(outs[0].refused + outs[1].refused, 140);
  });

  it('holds an endpoint concurrency cap across instances; waiters get places freed by the other', async () => {
    const cap = { maxConcurrency: 3 };
    let inFlight = 0;
    let peak = 0;
    const served: string[] = [];
    const ask = (l: Limits, name: string) =>
      l.acquireEndpoint('p:shared', cap, { queueKey: name, deadlineMs: Date.now() + 8_000 }).then(async (release) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        served.push(name);
        await sleep(5);
        inFlight--;
        release();
      });
    const started = performance.now();
    await Promise.all(Array.from({ length: 30 }, (_, i) => ask(i % 2 ? l1 : l2, `k${i % 4}`)));
    assert.equal(served.length, 30);
    assert.equal(peak, 3);
    assert.ok(performance.now() - started < 5_000);

    // One instance holds the only place; the other's waiter is served soon after it is released.
    const hold = await l1.acquireEndpoint('p:one', { maxConcurrency: 1 }, { queueKey: 'a' });
    let position = 0;
    const waiting = l2.acquireEndpoint(
      'p:one',
      { maxConcurrency: 1 },
      { queueKey: 'b', onWait: (p) => (position = p), deadlineMs: Date.now() + 3_000 },
    );
    await sleep(50);
    assert.equal(position, 1);
    assert.equal(l2.queueLength('p:one'), 1);
    const freed = performance.now();
    hold();
    const release = await waiting;
    const took = performance.now() - freed;
    assert.ok(took < 250, `took ${took} ms`);
    release();

    // And a deadline across instances: a 429 with the position.
    const hold2 = await l1.acquireEndpoint('p:one', { maxConcurrency: 1 }, { queueKey: 'a' });
    const err = await l2.acquireEndpoint('p:one', { maxConcurrency: 1 }, { queueKey: 'b', deadlineMs: Date.now() + 100 }).then(
      () => assert.fail('served past the cap'),
      (e: unknown) => e as GatewayError,
    );
    assert.equal(err.status, 429);
    assert.equal(err.metadata.queue_position, 1);
    hold2();
  });
});
