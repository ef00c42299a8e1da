import { randomFillSync } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// One syscall fills randomness for ~200 ids instead of one per id.
const pool = Buffer.alloc(4096);
let offset = pool.length;

function alnum(n: number): string {
  if (offset + n > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  let out = '';
  // 256 % 62 leaves a slight bias toward the first 8 characters; ids need uniqueness, not uniformity.
  for (let i = 0; i < n; i++) out += ALPHABET[pool[offset + i] % 62];
  offset += n;
  return out;
}

/** Digits in byte order, so a count written in them sorts as it counts. */
const ORDERED = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SEQ_SPAN = 62 ** 4;
let seq = Math.floor(Math.random() * SEQ_SPAN);

/** This process's next id number, as 4 ordered digits (wrapping after 14.7 million). */
function sequence(): string {
  seq = (seq + 1) % SEQ_SPAN;
  let n = seq;
  let out = '';
  for (let i = 0; i < 4; i++) {
    out = ORDERED[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * `gen-<unix seconds>-<20 alphanumerics>`, OpenRouter's generation id shape. The first 4 count up
 * (the other 16 are random): ids of one process sort in the order they were made, so the id
 * indexes of the generation log and the ledger grow at their right edge, one page written per
 * commit rather than one per row.
 */
export function generationId(now = Date.now()): string {
  return `gen-${Math.floor(now / 1000)}-${sequence()}${alnum(16)}`;
}
