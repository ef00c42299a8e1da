/**
 * Whether the process behind a lease is alive, told by the operating system rather than a clock.
 * Every process sharing a SQLite file runs on one machine (the write-ahead log needs shared
 * memory), so each holds a write lock on a small file of its own beside the database for as long
 * as it lives; the kernel drops the lock the moment the process dies, however it dies. Another
 * process that can take that lock knows at once that the owner is gone — across containers and PID
 * namespaces too, where a PID means nothing — so a restarted single-process install settles its
 * predecessor's holds before serving, and never mistakes a slow process for a dead one.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export class OwnerLocks {
  private readonly dir: string;
  private readonly held = new Map<string, DatabaseSync>();

  /** `dbPath`: the store's database file; the locks live in `<dbPath>-owners/`. */
  constructor(dbPath: string) {
    this.dir = `${dbPath}-owners`;
  }

  private file(owner: string): string {
    // Owner ids are UUIDs; anything else never names a file outside the directory.
    return join(this.dir, `${owner.replace(/[^A-Za-z0-9-]/g, '_')}.lock`);
  }

  /** Takes `owner`'s lock for as long as this process lives (or until `drop`). */
  hold(owner: string): void {
    mkdirSync(this.dir, { recursive: true });
    const db = new DatabaseSync(this.file(owner));
    // A rollback-journal database with a write transaction open: its RESERVED lock stays taken.
    db.exec('PRAGMA journal_mode = DELETE; BEGIN IMMEDIATE');
    this.held.set(owner, db);
  }

  /** True: its process is alive; false: it is gone; undefined: it never took a lock (cannot tell). */
  alive(owner: string): boolean | undefined {
    if (this.held.has(owner)) return true;
    const file = this.file(owner);
    if (!existsSync(file)) return undefined;
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(file);
      db.exec('PRAGMA busy_timeout = 0');
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      return false;
    } catch {
      return true;
    } finally {
      db?.close();
    }
  }

  /** Lets go of `owner`'s lock (this process's, at a clean stop) and removes its file. */
  drop(owner: string): void {
    const db = this.held.get(owner);
    this.held.delete(owner);
    if (db?.isOpen) db.close();
    rmSync(this.file(owner), { force: true });
  }
}
