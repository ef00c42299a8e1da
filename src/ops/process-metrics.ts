/**
 * The process_* and nodejs_* series operators and the Grafana dashboard read: CPU, memory, heap
 * and event-loop delay, with the names and help texts Prometheus' client libraries use, so
 * existing queries keep working. Everything is read at scrape time; between scrapes the only cost
 * is the event-loop delay monitor, whose timer runs in C++ and never enters JavaScript.
 */
import { existsSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileDescriptorLimit } from '../infra/fd-limit.ts';
import { type Registry, Sampled } from './prometheus.ts';

/** Resolution of the delay monitor, ms: the common default, so lag series compare across versions. */
const LAG_RESOLUTION_MS = 10;

const startTime = Math.round(Date.now() / 1000 - process.uptime());

export function registerProcessMetrics(registry: Registry): void {
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  // One reading per scrape, so user + system equals the total and the lag figures describe the same samples.
  let cpu = process.cpuUsage();
  let mem = process.memoryUsage();
  let lagSeconds = { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };
  registry.beforeScrape(() => {
    cpu = process.cpuUsage();
    mem = process.memoryUsage();
    const ns = (v: number) => (lag.count > 0 ? v / 1e9 : 0);
    lagSeconds = {
      min: ns(lag.min),
      max: ns(lag.max),
      mean: ns(lag.mean),
      stddev: ns(lag.stddev),
      p50: ns(lag.percentile(50)),
      p90: ns(lag.percentile(90)),
      p99: ns(lag.percentile(99)),
    };
    // Each scrape reports the delays since the previous one, not since start.
    lag.reset();
  });

  const value = (name: string, help: string, type: 'counter' | 'gauge', read: () => number) =>
    new Sampled(registry, { name, help, type, read });
  value('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', 'counter', () => cpu.user / 1e6);
  value('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', 'counter', () => cpu.system / 1e6);
  value('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', 'counter', () => (cpu.user + cpu.system) / 1e6);
  value('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 'gauge', () => startTime);
  value('process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', () => mem.rss);
  value('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', 'gauge', () => lagSeconds.min);
  value('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', 'gauge', () => lagSeconds.max);
  value('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', 'gauge', () => lagSeconds.mean);
  value(
    'nodejs_eventloop_lag_stddev_seconds',
    'The standard deviation of the recorded event loop delays.',
    'gauge',
    () => lagSeconds.stddev,
  );
  value('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', 'gauge', () => lagSeconds.p50);
  value('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.', 'gauge', () => lagSeconds.p90);
  value('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', 'gauge', () => lagSeconds.p99);
  value('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'gauge', () => mem.heapTotal);
  value('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'gauge', () => mem.heapUsed);
  value('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'gauge', () => mem.external);
  // Every stream holds two sockets, so open files against the limit is what runs out first under
  // many streams. Linux only: where /proc is missing the series are left out rather than shown as 0.
  if (existsSync('/proc/self/fd')) {
    // Reading the directory opens one descriptor of its own, not counted.
    value('process_open_fds', 'Number of open file descriptors.', 'gauge', () => readdirSync('/proc/self/fd').length - 1);
    const max = fileDescriptorLimit();
    if (max !== undefined) value('process_max_fds', 'Maximum number of open file descriptors.', 'gauge', () => max);
  }
}
