/**
 * Operations on PostgreSQL committed in groups, as the SQLite store's group commit does: the ones
 * that arrive while a group is on its way to the database go together in the next, one
 * transaction in one round trip (pg-batch.ts). A busy gateway then pays one round trip, one
 * commit and a handful of statements per group instead of several statements per request, on
 * both ends of the connection (issue 14). A caller still resolves only once its operation is
 * committed; a lone operation goes at the next turn of the event loop, so an idle gateway waits
 * for nothing.
 *
 * A group holds operations of one UTC day only (a key's limit period that rolled over is decided
 * once per group) and at most MAX_GROUP of them. One that fails for any reason but the database
 * being away is run again one operation at a time, so one bad operation cannot sink the others.
 */

/** Operations in one group at most. */
const MAX_GROUP = 200;
const DAY_MS = 86_400_000;

interface Waiting<Req, Res> {
  req: Req;
  resolve: (r: Res) => void;
  reject: (err: unknown) => void;
}

export class GroupQueue<Req extends { now: Date }, Res> {
  private readonly run: (group: Req[]) => Promise<Res[]>;
  private readonly isOutage: (err: unknown) => boolean;
  private readonly groups: { day: number; items: Waiting<Req, Res>[] }[] = [];
  private busy = false;
  private idle: (() => void)[] = [];

  /** `run` commits a group, answering each operation in order; `isOutage` says a failure is the database being away. */
  constructor(run: (group: Req[]) => Promise<Res[]>, isOutage: (err: unknown) => boolean) {
    this.run = run;
    this.isOutage = isOutage;
  }

  add(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const day = Math.floor(req.now.getTime() / DAY_MS);
      let g = this.groups.at(-1);
      if (!g || g.day !== day || g.items.length >= MAX_GROUP) {
        g = { day, items: [] };
        this.groups.push(g);
      }
      g.items.push({ req, resolve, reject });
      if (this.busy) return;
      this.busy = true;
      // After this turn of the event loop: the operations of requests finishing together share it.
      setImmediate(() => void this.next());
    });
  }

  /** Resolves once every operation queued so far has been answered. */
  drained(): Promise<void> {
    if (!this.busy && this.groups.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async next(): Promise<void> {
    const g = this.groups.shift();
    if (!g) {
      this.busy = false;
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    try {
      await this.commit(g.items);
    } finally {
      setImmediate(() => void this.next());
    }
  }

  private async commit(items: Waiting<Req, Res>[]): Promise<void> {
    try {
      const out = await this.run(items.map((w) => w.req));
      items.forEach((w, i) => w.resolve(out[i]));
    } catch (err) {
      if (items.length === 1 || this.isOutage(err)) {
        for (const w of items) w.reject(err);
        return;
      }
      for (const w of items) await this.commit([w]);
    }
  }
}
