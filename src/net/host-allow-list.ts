/**
 * Internal hosts the operator lets outbound requests reach although they are not public: exact
 * host names (`hooks.internal`, matched case-insensitively, without subdomains), IP addresses
 * (`10.0.0.5`, `::1`) and CIDR ranges (`10.1.0.0/16`). A listed name is trusted whatever it
 * resolves to (the operator trusts its own DNS); a listed address or range lets any name that
 * resolves into it through.
 */
import ipaddr from 'ipaddr.js';
import { canonicalAddress } from './public-address.ts';

type Net = [ipaddr.IPv4 | ipaddr.IPv6, number];

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/;

const unbracket = (s: string): string =>
  s
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
const bareName = (s: string): string => unbracket(s).replace(/\.$/, '');

/** Whether a config entry is a host name, an IP address or a CIDR range. */
export function isAllowEntry(entry: string): boolean {
  const e = unbracket(entry);
  return ipaddr.isValidCIDR(e) || ipaddr.isValid(e) || HOST_NAME.test(bareName(entry));
}

export class HostAllowList {
  private readonly names = new Set<string>();
  private readonly nets: Net[] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const e = unbracket(entry);
      if (ipaddr.isValidCIDR(e)) this.nets.push(ipaddr.parseCIDR(e));
      else if (ipaddr.isValid(e)) {
        const a = ipaddr.process(canonicalAddress(e));
        this.nets.push([a, a.kind() === 'ipv4' ? 32 : 128]);
      } else this.names.add(bareName(e));
    }
  }

  /** Whether the host (a URL's hostname: brackets and a trailing dot allowed) is listed by name. */
  hasName(host: string): boolean {
    return this.names.has(bareName(host));
  }

  /** Whether an IP address is listed or inside a listed range (IPv4-mapped IPv6 counts as its IPv4). */
  hasAddress(ip: string): boolean {
    const canonical = canonicalAddress(ip);
    if (this.nets.length === 0 || !ipaddr.isValid(canonical)) return false;
    const a = ipaddr.process(canonical);
    return this.nets.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits));
  }
}
