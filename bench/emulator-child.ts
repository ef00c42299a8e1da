/**
 * Benchmark child: the OpenAI emulator in its own process, keeping no request bodies.
 */
import { startOpenAIEmulator } from '../test/emulators/openai.ts';
import { ready, serveParent } from './child-ipc.ts';

const emu = await startOpenAIEmulator({ record: false });
serveParent({
  async close() {
    await emu.close();
    setImmediate(() => process.exit(0));
    return true;
  },
});
ready({ url: emu.url, apiKey: emu.apiKey });
