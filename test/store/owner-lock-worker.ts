/**
 * A stand-in for another Freeway process on the same SQLite file: takes an owner's lock, says
 * `held`, and lives until killed (process-leases.test.ts).
 */
import { OwnerLocks } from '../../src/store/sqlite/owner-locks.ts';

const [path, owner] = process.argv.slice(2);
const locks = new OwnerLocks(path);
locks.hold(owner);
process.stdout.write('held\n');
// Kept referenced: a collected connection would close, and let its lock go.
setInterval(() => void locks, 60_000);
