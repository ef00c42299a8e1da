/**
 * `item_reference` input items, as OpenAI's Responses API takes them: an earlier output item
 * named by its id instead of sent again (the AI SDK does this for every stored response). The
 * item is looked up in the key's stored response it came from — its id says which (see
 * newItemId) — so another key's items, unstored ones and expired ones are all "not found".
 */
import type { App } from '../../app.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { Obj } from '../../spec/validate.ts';
import { isItemReference } from './parse-items.ts';
import { responseIdOfItem } from './render-response.ts';
import { loadResponse } from './store.ts';

const notFound = (id: string, param: string): GatewayError =>
  new GatewayError('not_found', `Item with id '${id}' not found.`, { retryable: false, metadata: { param, code: 'not_found' } });

/** The input with every reference replaced by the item it names. */
export async function resolveItemReferences(app: App, keyHash: string, input: readonly Obj[]): Promise<Obj[]> {
  if (!input.some((item) => isItemReference(item))) return [...input];
  const out: Obj[] = [];
  for (const [i, item] of input.entries()) {
    if (!isItemReference(item)) {
      out.push(item);
      continue;
    }
    const id = String(item.id);
    const responseId = responseIdOfItem(id);
    if (!responseId) throw notFound(id, `input[${i}].id`);
    const stored = await loadResponse(app, keyHash, responseId, null).catch((err: unknown) => {
      throw err instanceof GatewayError && err.type === 'not_found' ? notFound(id, `input[${i}].id`) : err;
    });
    const found = [...stored.output, ...stored.input].find((x): x is Obj => typeof x === 'object' && x !== null && (x as Obj).id === id);
    if (!found) throw notFound(id, `input[${i}].id`);
    out.push(found);
  }
  return out;
}
