/**
 * Benchmark child: one Freeway process, configured as an operator would (env vars), with
 * authentication and usage recording on, its `openai` provider pointed at the emulator.
 *
 * argv: <emulator url> <emulator api key> <directory for the SQLite file>
 */
import { join } from 'node:path';
import { createKey } from '../src/accounting/keys.ts';
import { loadSettings } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import { startGateway } from '../src/start.ts';
import { ready, serveParent } from './child-ipc.ts';

const [emulatorUrl, emulatorKey, dir] = process.argv.slice(2);
if (!emulatorUrl || !emulatorKey || !dir) throw new Error('usage: freeway-child.ts <emulator url> <api key> <dir>');

const settings = await loadSettings({
  env: { OPENAI_API_KEY: emulatorKey, OPENAI_BASE_URL: `${emulatorUrl}/v1`, DATABASE_URL: join(dir, 'freeway.db') },
  port: 0,
  cwd: dir,
});
const gw = await startGateway(settings, { log: createLogger('silent') });
await gw.discovery;
const { key } = await createKey(gw.app.store, { name: 'bench', kind: 'inference' });

serveParent({
  async close() {
    await gw.close();
    // Exit on the next turn so the answer reaches the parent (and --cpu-prof gets written).
    setImmediate(() => process.exit(0));
    return true;
  },
});
ready({ url: gw.url, key });
