/**
 * Which addresses are public: the rule that keeps a URL chosen by a tenant (a credit alert's
 * webhook) from reaching the gateway's own host, its private network or a cloud metadata service.
 * Ranges come from ipaddr.js (the IANA special-purpose registries); only its `unicast` class —
 * what is left when every special range is taken out — is public. IPv6 forms that carry an IPv4
 * address (mapped, translated, NAT64, 6to4, Teredo) are judged by the IPv4 address they carry.
 */
import { isIP, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

export type AddressVerdict = { public: true } | { public: false; reason: string };

/** What each refused range is, in words a 400 can carry. */
const RANGES: Record<string, string> = {
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address (where cloud metadata services live)',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  private: 'a private address (RFC 1918)',
  uniqueLocal: 'a unique-local IPv6 address (fc00::/7)',
  deprecatedSiteLocal: 'a site-local IPv6 address (fec0::/10)',
  reserved: 'a reserved or documentation address',
  benchmarking: 'a benchmarking address',
  discard: 'a discard-only IPv6 address',
  rfc6052: 'a local-use NAT64 address',
  ipv4Compatible: 'an IPv4-compatible IPv6 address (deprecated)',
};

/** `::a.b.c.d` (RFC 4291 §2.5.5.1, deprecated): ipaddr.js calls it unicast, but it names an IPv4 host. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');
/** The well-known NAT64 prefix (RFC 6052): the IPv4 address is the last 32 bits. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

function v4(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

/** The IPv4 addresses an IPv6 address hands traffic to, if it is one of the embedding forms. */
function embeddedV4(a: ipaddr.IPv6, range: string): ipaddr.IPv4[] | undefined {
  const p = a.parts;
  switch (range) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return [v4(p[6], p[7])];
    case 'rfc6052':
      return a.match(NAT64_WELL_KNOWN) ? [v4(p[6], p[7])] : undefined;
    case '6to4':
      return [v4(p[1], p[2])];
    case 'teredo':
      // The Teredo server, and the client's own address (stored inverted).
      return [v4(p[2], p[3]), v4(p[6] ^ 0xffff, p[7] ^ 0xffff)];
    default:
      return undefined;
  }
}

const describe = (range: string): string => RANGES[range] ?? `a special-purpose address (${range})`;

function verdictOf(range: string): AddressVerdict {
  return range === 'unicast' ? { public: true } : { public: false, reason: describe(range) };
}

/**
 * An address in the form ipaddr.js reads as it is. IPv6 goes through the WHATWG serialiser (all
 * hex): ipaddr.js reads any dotted tail (`::8.8.8.8`, as inet_ntop prints an IPv4-compatible
 * address) as IPv4-mapped, which is another address. A zone (`%eth0`) is dropped.
 */
export function canonicalAddress(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  return isIPv6(bare) ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : ip;
}

/** Whether an IP address (no brackets) is a public unicast address; why not, if not. */
export function classifyAddress(ip: string): AddressVerdict {
  const canonical = canonicalAddress(ip);
  // Strictly an address as a resolver prints it: no `127.1` or `0x7f.1` shorthand slips through.
  if (isIP(canonical) === 0) return { public: false, reason: 'not an IP address' };
  const a = ipaddr.parse(canonical);
  if (a.kind() === 'ipv4') return verdictOf(a.range());
  const v6 = a as ipaddr.IPv6;
  const range = v6.range();
  const inner = embeddedV4(v6, range);
  if (inner) {
    for (const x of inner) {
      const r = x.range();
      if (r !== 'unicast') return { public: false, reason: `${describe(r)} embedded in an IPv6 address` };
    }
    return { public: true };
  }
  if (range === 'unicast' && v6.match(IPV4_COMPATIBLE)) return verdictOf('ipv4Compatible');
  return verdictOf(range);
}

/** Whether a host name is `localhost` or under it (RFC 6761: always the machine itself, whatever DNS says). */
export function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}
