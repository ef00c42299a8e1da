/**
 * The chat door's options for the model (providers/field-policy.ts) on Gemini: none has a native
 * equivalent in generateContent, so each is dropped with a warning — except what asks for nothing
 * Gemini does not do anyway (the standard service tier, and the table's neutral values).
 */
import { dropWarning, sortOptions } from '../field-policy.ts';

export function applyOptions(options: Readonly<Record<string, unknown>> | undefined, warnings: string[]): void {
  const { translate } = sortOptions('gemini', options, warnings, 'Gemini');
  const tier = translate.service_tier;
  if (typeof tier === 'string' && tier !== 'auto' && tier !== 'default') {
    warnings.push(dropWarning(`service_tier ${JSON.stringify(tier)}`, 'Gemini', 'served on the standard tier'));
  }
}
