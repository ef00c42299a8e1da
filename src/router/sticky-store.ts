/**
 * Remembers which endpoint served a conversation, so the next turn can go back to the endpoint
 * that has its prompt cached. Entries expire (routing.stickyMinutes) and the map is bounded.
 */
export class StickyStore {
  private readonly entries = new Map<string, { endpoint: string; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(ttlMs: number, maxEntries = 100_000) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  get(key: string, now = Date.now()): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.endpoint;
  }

  set(key: string, endpoint: string, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    // Oldest first in a Map: evict from the front when full.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { endpoint, expires: now + this.ttlMs });
  }
}
