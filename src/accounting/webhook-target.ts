/**
 * Where a credit-alert webhook may go. A URL given through the API (by a key's owner, a management
 * key or the admin) must be plain http(s) without credentials and reach only public unicast
 * addresses: its host is resolved and every address it resolves to is checked, when the alert is
 * created and again before every delivery (a name can be re-pointed in between: DNS rebinding).
 * The delivery then connects to the addresses checked, not to a fresh lookup. The operator's own
 * `alerts.webhookUrl` is trusted, and `alerts.allowInternalHosts` names internal hosts let through.
 */
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { HostAllowList } from '../net/host-allow-list.ts';
import { classifyAddress, isLocalhostName } from '../net/public-address.ts';

/** Resolves a host name to every address it has (tests inject their own DNS). */
export type HostLookup = (hostname: string) => Promise<LookupAddress[]>;

export const systemLookup: HostLookup = (host) => lookup(host, { all: true, order: 'verbatim' });

/**
 * The target may not be reached: permanent, never retried. The message names the host only: the
 * address a name resolved to (`address`) is for the operator's log, not for the tenant who asked
 * (the gateway's DNS may know internal names, and their addresses are not the tenant's business).
 */
export class WebhookRefused extends Error {
  readonly address?: string;
  constructor(message: string, address?: string) {
    super(message);
    this.address = address;
  }
}

/** The host does not resolve (now): refused when an alert is created, retried at delivery. */
export class WebhookUnresolved extends Error {}

const MAX_URL_LENGTH = 2048;
const HINT = 'webhooks go to public addresses only (the operator can allow internal hosts with alerts.allowInternalHosts)';

/** A URL's host without IPv6 brackets, as DNS and the address checks want it. */
const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Rejects when the signal fires (a DNS lookup cannot be cancelled, only stopped waiting for). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The syntax of a webhook URL: http(s), at most 2048 characters, no `user:password@`. Throws WebhookRefused. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // said below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || raw.length > MAX_URL_LENGTH) {
    throw new WebhookRefused(`must be an http(s) URL of at most ${MAX_URL_LENGTH} characters`);
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials would be stored, shown by the alert APIs and sent in the clear over http.
    throw new WebhookRefused('must not carry credentials (user:password@); authenticate the request with its x-freeway-signature');
  }
  return url;
}

export class WebhookTargets {
  private readonly allow: HostAllowList;
  private readonly lookup: HostLookup;

  constructor(allowInternalHosts: readonly string[], lookupHost: HostLookup = systemLookup) {
    this.allow = new HostAllowList(allowInternalHosts);
    this.lookup = lookupHost;
  }

  /**
   * Resolves the URL's host and checks every address; returns them, for the connection to use.
   * `trusted` (the operator's config) skips the address rules, not the resolution. Throws
   * WebhookRefused, WebhookUnresolved, or the signal's reason.
   */
  async resolve(url: URL, opts: { trusted: boolean; signal: AbortSignal }): Promise<LookupAddress[]> {
    const host = bareHost(url);
    const trusted = opts.trusted || this.allow.hasName(host);
    if (!trusted && isLocalhostName(host)) throw new WebhookRefused(`${url.hostname} is this machine (localhost); ${HINT}`);
    const family = isIP(host);
    const addresses = family !== 0 ? [{ address: host, family }] : await this.lookupName(host, opts.signal);
    if (trusted) return addresses;
    for (const a of addresses) {
      if (this.allow.hasAddress(a.address)) continue;
      const verdict = classifyAddress(a.address);
      if (verdict.public) continue;
      if (family !== 0) throw new WebhookRefused(`${url.hostname} is ${verdict.reason}; ${HINT}`);
      throw new WebhookRefused(`${url.hostname} resolves to ${verdict.reason}; ${HINT}`, a.address);
    }
    return addresses;
  }

  private async lookupName(host: string, signal: AbortSignal): Promise<LookupAddress[]> {
    let addresses: LookupAddress[];
    try {
      addresses = await untilAborted(this.lookup(host), signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const code = (err as { code?: string }).code ?? 'lookup failed';
      throw new WebhookUnresolved(`${host} could not be resolved (${code})`);
    }
    if (addresses.length === 0) throw new WebhookUnresolved(`${host} could not be resolved (no addresses)`);
    return addresses;
  }
}
