import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alnum(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[bytes[i] % 62];
  return out;
}

/** `gen-<unix seconds>-<20 alphanumerics>`, OpenRouter's generation id shape. */
export function generationId(now = Date.now()): string {
  return `gen-${Math.floor(now / 1000)}-${alnum(20)}`;
}
