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
  if (typeof createdAt !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(createdAt))) {
    fail('cursor', 'is not a cursor this API returned (pass next_cursor from the previous page as it is)');
  }
  return { createdAt, id };
}
