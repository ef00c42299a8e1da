/**
 * A fair queue: FIFO within a queue key (an API key), round-robin across queue keys, so one key
 * flooding an endpoint cannot starve the others. Keys are served in the order of a Map: a key
 * that has been served moves to the back, a key that starts waiting joins at the back.
 */
export class FairQueue<T> {
  private readonly byKey = new Map<string, T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(key: string, item: T): void {
    let list = this.byKey.get(key);
    if (!list) this.byKey.set(key, (list = []));
    list.push(item);
    this.count++;
  }

  /** The next item to serve, without taking it. */
  peek(): T | undefined {
    for (const list of this.byKey.values()) return list[0];
    return undefined;
  }

  /** Takes the next item to serve (the one `peek` returned) and moves its key to the back. */
  shift(): T | undefined {
    for (const [key, list] of this.byKey) {
      const item = list.shift();
      this.count--;
      this.byKey.delete(key);
      if (list.length > 0) this.byKey.set(key, list);
      return item;
    }
    return undefined;
  }

  /** Takes an item out wherever it is (it gave up waiting). False if it was not queued. */
  remove(key: string, item: T): boolean {
    const list = this.byKey.get(key);
    const i = list ? list.indexOf(item) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    this.count--;
    if (list.length === 0) this.byKey.delete(key);
    return true;
  }

  /**
   * 1-based place of an item in the serving order (1 = served next), or 0 if it is not queued.
   * An item i-th in its key's list is served in round i: before it go i items of every key (or
   * all of a shorter key's) and, in round i, the keys ahead of its own that still have one.
   */
  position(key: string, item: T): number {
    const own = this.byKey.get(key);
    const i = own ? own.indexOf(item) : -1;
    if (!own || i < 0) return 0;
    let ahead = 0;
    let before = true;
    for (const [k, list] of this.byKey) {
      if (k === key) {
        before = false;
        ahead += i;
        continue;
      }
      ahead += Math.min(list.length, i);
      if (before && list.length > i) ahead++;
    }
    return ahead + 1;
  }

  /** Takes every item out. */
  drain(): T[] {
    const all = [...this.byKey.values()].flat();
    this.byKey.clear();
    this.count = 0;
    return all;
  }
}
