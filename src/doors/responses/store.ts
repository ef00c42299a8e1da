/**
 * Stored responses (`store` defaults to true, as on OpenAI): what is kept, and
 * `previous_response_id`, which continues a stored conversation for the key that created it.
 * Another key's response is indistinguishable from a missing one (404), and so is one older than
 * `responses.retentionDays` (the expired ones are purged as new ones are saved, at most once a
 * minute per process). A streamed response is saved as its last event is written; a request that
 * names it meanwhile waits for the save instead of missing it.
 */
import type { App } from '../../app.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { StoredResponse } from '../../store/types.ts';
import type { Obj } from '../../spec/validate.ts';

/** Saves in flight in this process, by response id. */
const pending = new Map<string, Promise<void>>();

const PURGE_EVERY_MS = 60_000;
/** Per app: when its last purge started, and that purge (never rejects). */
const purges = new WeakMap<App, { at: number; done: Promise<void> }>();

/** Deletes the expired responses, if this process has not done so within the last minute. */
function purgeExpired(app: App): Promise<void> {
  const now = Date.now();
  const last = purges.get(app);
  if (last && now - last.at < PURGE_EVERY_MS) return last.done;
  const done = app.store.purgeResponses(new Date(now - app.settings.responses.retentionMs).toISOString()).then(
    () => undefined,
    (err: unknown) => app.log.warn(`could not purge expired responses: ${(err as Error)?.message ?? String(err)}`),
  );
  purges.set(app, { at: now, done });
  return done;
}

/** The latest purge of expired responses, settled (tests wait for it). */
export function lastPurge(app: App): Promise<void> {
  return purges.get(app)?.done ?? Promise.resolve();
}

/** Saves a response; never throws (a failed save is logged: the answer was already paid for). */
export function saveResponse(app: App, rec: StoredResponse): Promise<void> {
  const p = app.store
    .saveResponse(rec)
    .catch((err: unknown) => app.log.error(`could not store response ${rec.id}: ${(err as Error)?.message ?? String(err)}`))
    .finally(() => pending.delete(rec.id));
  pending.set(rec.id, p);
  // The purge runs beside the answer, not before it; expired responses are unreadable meanwhile.
  void purgeExpired(app);
  return p;
}

/** What a stored response keeps: the conversation it answered, its output, the response object. */
export function storedResponse(keyHash: string, input: readonly unknown[], response: Obj): StoredResponse {
  return {
    id: String(response.id),
    keyHash,
    model: String(response.model),
    input: [...input],
    output: Array.isArray(response.output) ? response.output : [],
    response,
    createdAt: new Date(Number(response.created_at) * 1000).toISOString(),
  };
}

/** The key's stored response, or a 404 naming `param`. */
export async function loadResponse(app: App, keyHash: string, id: string, param: string | null): Promise<StoredResponse> {
  await pending.get(id);
  const r = await app.store.getResponse(id);
  const expired = r !== undefined && Date.parse(r.createdAt) < Date.now() - app.settings.responses.retentionMs;
  if (!r || r.keyHash !== keyHash || expired) {
    const what = param === 'previous_response_id' ? 'Previous response' : 'Response';
    throw new GatewayError('not_found', `${what} with id '${id}' not found.`, {
      retryable: false,
      metadata: { param, code: param === 'previous_response_id' ? 'previous_response_not_found' : 'not_found' },
    });
  }
  return r;
}

/** Deletes the key's stored response (404 when it has none by that id). */
export async function deleteResponse(app: App, keyHash: string, id: string): Promise<void> {
  await loadResponse(app, keyHash, id, null);
  await app.store.deleteResponse(id, keyHash);
}

/** The items a continuation starts from: the stored conversation, then that response's output. */
export function conversationOf(r: StoredResponse): unknown[] {
  return [...r.input, ...r.output];
}
