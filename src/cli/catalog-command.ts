/**
 * `freeway catalog [--config FILE] [--provider ID] [--json]`: asks each live provider for its model
 * list, as the gateway does, and shows what maps to which canonical model and what is unpriced or
 * unmapped. Reads no database and starts no server.
 */
import { parseArgs } from 'node:util';
import { buildCatalog } from '../catalog/build.ts';
import { listModels } from '../catalog/discovery.ts';
import { catalogReport, formatReport } from '../catalog/report.ts';
import { ConfigError, loadSettings } from '../config/load.ts';

export async function catalogCommand(argv: string[], out: (s: string) => void): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, provider: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const settings = await loadSettings({ configPath: values.config });
  if (values.provider !== undefined && !settings.providers.some((p) => p.id === values.provider)) {
    throw new ConfigError(`provider ${values.provider} is not live (live: ${settings.providers.map((p) => p.id).join(', ') || 'none'})`);
  }
  const { listed, failed } = await listModels(settings);
  const built = buildCatalog({ settings, discovered: listed });
  const reports = catalogReport(settings, built, listed, failed).filter((r) => values.provider === undefined || r.id === values.provider);
  if (values.json) {
    out(JSON.stringify({ providers: reports }, null, 2));
    return;
  }
  if (reports.length === 0) out('No providers are live: set a provider key (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) or a freeway.yaml.');
  for (const line of formatReport(reports)) out(line);
  const shared = [...built.models.values()].filter((m) => new Set(m.endpoints.map((e) => e.provider.id)).size > 1).length;
  if (values.provider === undefined) out(`${built.models.size} models listed; ${shared} served by more than one provider.`);
  for (const s of settings.skipped) out(`Not live: ${s.id}: ${s.reason}`);
}
