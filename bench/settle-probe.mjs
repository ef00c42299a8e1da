// Preloaded into the Freeway process under test (`--import`): records how long each answer waited
// for its charge to commit (Freeway publishes it on the `freeway.settle` diagnostics channel, only
// while someone subscribes). SIGUSR2 starts recording; the next SIGUSR2 stops it and writes the
// samples to FREEWAY_BENCH_SETTLE_FILE as { seq, whole: [ms...], streamed: [ms...] }.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';

const file = process.env.FREEWAY_BENCH_SETTLE_FILE;
let recording = false;
let seq = 0;
let whole = [];
let streamed = [];
subscribe('freeway.settle', (m) => {
  if (recording) (m.streamed ? streamed : whole).push(m.ms);
});
process.on('SIGUSR2', () => {
  if (!recording) {
    whole = [];
    streamed = [];
    recording = true;
    return;
  }
  recording = false;
  seq++;
  if (file) writeFileSync(file, JSON.stringify({ seq, whole, streamed }));
});
