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

/** `gen-<unix seconds>-<20 alphanumerics>`, OpenRouter's generation id shape. */
export function generationId(now = Date.now()): string {
  return `gen-${Math.floor(now / 1000)}-${alnum(20)}`;
}
