/**
 * The cursor of the keyset-paged lists (generations, the credits ledger): opaque to clients, the
 * last row's (created_at, id) as base64url JSON; the next page is the rows strictly older.
 */
import { fail } from '../spec/validate.ts';

/** The cursor is opaque to clients: the last row's (created_at, id), base64url JSON. */
export function encodeCursor(at: { createdAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([at.createdAt, at.id])).toString('base64url');
}

export function decodeCursor(v: string): { createdAt: string; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(v, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const [createdAt, id] = Array.isArray(parsed) && parsed.length === 2 ? (parsed as unknown[]) : [];
  // The time as the API wrote it: the store compares it as text, so any other form of a date
  // (`0`, `2024-01-01`) would page from somewhere else than it says.
  if (typeof createdAt !== 'string' || typeof id !== 'string' || !canonicalTime(createdAt)) {
    fail('cursor', 'is not a cursor this API returned (pass next_cursor from the previous page as it is)');
  }
  return { createdAt, id };
}

/** `toISOString` form with a four-digit year, as every row's time is (an extended `+275760-...` year sorts as text before them all). */
function canonicalTime(v: string): boolean {
  if (!/^\d{4}-/.test(v)) return false;
  const ms = Date.parse(v);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === v;
}
